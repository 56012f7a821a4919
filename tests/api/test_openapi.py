"""The OpenAPI document says what the API does: readable ids, one error schema, the scope each route
needs; and every error the server sends, routed or not, is a problem-details body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Served

PROBLEM_REF = "#/components/schemas/Problem"


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


@pytest.fixture
def doc(shared_served: Served) -> dict[str, Any]:
    r = shared_served.client.get("/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document


def test_operation_ids_are_readable_and_unique(doc: dict[str, Any]) -> None:
    """Snake-case verbs and nouns, not FastAPI's path-derived ids; no two alike."""
    ids = {f"{m} {p}": op["operationId"] for m, p, op in _operations(doc)}
    assert len(set(ids.values())) == len(ids)
    for label, operation_id in ids.items():
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", operation_id), label
        assert "api_v1" not in operation_id, label
        assert len(operation_id) <= 32, label
    assert ids["POST /api/v1/alerts/{alert_id}/ack"] == "acknowledge_alert"
    assert ids["GET /api/v1/alerts"] == "list_alerts"
    assert ids["GET /api/v1/vials/{vial_id}/events"] == "list_vial_events"
    assert ids["GET /healthz"] == "get_health"
    summaries = {f"{m} {p}": op["summary"] for m, p, op in _operations(doc)}
    assert summaries["GET /healthz"] == "Get health"
    assert summaries["POST /api/v1/alerts/{alert_id}/ack"] == "Acknowledge alert"


def test_schema_names_are_unique_and_readable(doc: dict[str, Any]) -> None:
    """No module-qualified names (``api__schemas__PotencyPoint``); every reference resolves."""
    schemas = doc["components"]["schemas"]
    assert not [name for name in schemas if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)]
    assert {"PotencyPoint", "GlancePotencyPoint", "Problem"} <= schemas.keys()
    refs = re.findall(r'"#/components/schemas/([^"]+)"', str(doc).replace("'", '"'))
    assert refs
    assert set(refs) <= schemas.keys()


def test_every_error_status_is_a_problem(doc: dict[str, Any]) -> None:
    """Each 4xx and 5xx of every route is RFC 9457 problem details (the health check's 503 excepted: it
    answers with its own report); FastAPI's unused validation schemas are gone."""
    responses = doc["components"]["responses"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path, operation in _operations(doc):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or (path, status) == ("/healthz", "503"):
                continue
            resolved = responses[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
            schema = resolved["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": PROBLEM_REF}, f"{method} {path} {status}"


@pytest.mark.parametrize(
    ("label", "statuses"),
    [
        ("GET /api/v1/alerts", {"401", "404", "422", "503"}),  # ?location= and ?vial= name things
        ("GET /api/v1/vials/{vial_id}", {"401", "404", "422", "503"}),
        ("POST /api/v1/alerts/{alert_id}/ack", {"400", "401", "403", "404", "413", "422", "503"}),
        ("GET /api/v1/reports/excursions.csv", {"401", "404", "422", "503"}),
        ("GET /api/v1/audit/verify", {"401", "403", "503"}),
        ("GET /healthz", {"503"}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_route_lists_the_errors_it_can_give(doc: dict[str, Any], label: str, statuses: set[str]) -> None:
    """401 where the caller is checked, 403 above read, 404 where something is named, 400 and 413 with a
    body, 422 with any input, 503 wherever the database is read."""
    method, path = label.split(" ")
    errors = {s for s in doc["paths"][path][method.lower()]["responses"] if s.startswith(("4", "5"))}
    assert errors == statuses


def test_the_bearer_scheme_and_each_routes_scope_are_declared(doc: dict[str, Any]) -> None:
    """An HTTP bearer scheme (the Authorize button); reads need read (or nothing, on this loopback-only
    server), writes write, the audit trail and tokens admin; the health check nothing."""
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    security = {f"{m} {p}": op.get("security") for m, p, op in _operations(doc)}
    assert security["GET /api/v1/alerts"] == [{"bearer": ["read"]}, {}]
    assert security["POST /api/v1/alerts/{alert_id}/ack"] == [{"bearer": ["write"]}]
    assert security["POST /api/v1/vials"] == [{"bearer": ["write"]}]
    assert security["GET /api/v1/audit"] == [{"bearer": ["admin"]}]
    assert security["POST /api/v1/tokens"] == [{"bearer": ["admin"]}]
    assert security["GET /metrics"] == [{"bearer": ["read"]}, {}]
    assert security["GET /healthz"] is None
    for label, requirement in security.items():
        if label.startswith(("POST", "PUT", "PATCH", "DELETE")):
            assert requirement is not None, f"{label} must need a token"
            assert {} not in requirement, f"{label} must need a token"


def test_the_declared_scopes_are_what_the_server_enforces(served: Served, doc: dict[str, Any]) -> None:
    """For each route without path parameters, a token one scope below the declared one is refused
    with 403, and the declared one is not refused: the document and api.auth agree."""
    below = {"write": "read", "admin": "write"}
    for method, path, operation in _operations(doc):
        if "{" in path or not operation.get("security"):
            continue
        (scope,) = operation["security"][0]["bearer"]
        if scope in below:
            r = served.client.request(method, path, headers=served.auth(below[scope]), json={})
            assert r.status_code == 403, f"{method} {path} with a {below[scope]} token"
        r = served.client.request(method, path, headers=served.auth(scope), json={})
        assert r.status_code not in (401, 403), f"{method} {path} with a {scope} token"


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/no/such/page", 404, "not found"),
        ("DELETE", "/api/v1/alerts", 405, "method not allowed"),
        ("GET", "/api/v1/vials/999", 404, "not found"),
        ("GET", "/api/v1/vials/x", 422, "invalid request"),
        ("GET", "/api/v1/audit", 401, "unauthorized"),
    ],
    ids=["unknown-path", "wrong-method", "unknown-vial", "bad-id", "no-token"],
)
def test_every_error_is_a_problem_whatever_raised_it(
    shared_served: Served, method: str, path: str, status: int, error: str
) -> None:
    """Routed or not (Starlette's 404 and 405, our domain errors, validation, auth): one shape, its media
    type, the status repeated, a detail that names the problem."""
    r = shared_served.client.request(method, path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["error"] == error
    assert body["detail"] == body["message"]
    assert body["detail"]
    if status == 405:
        assert "GET" in r.headers["allow"]
    assert body["detail"] not in ("Not Found", "Method Not Allowed")  # it says what was asked


def test_a_body_over_the_limit_is_a_problem_too(served: Served) -> None:
    """The 413 the body limit sends before routing has the same shape and media type."""
    r = served.writer.post(
        "/api/v1/silences", content=b"x" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 413
    assert "65536 bytes" in r.json()["detail"]

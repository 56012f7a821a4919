"""The OpenAPI document, made to say what the API does: who may call each route, and how each one fails.

On top of what FastAPI derives from the routes:

- **Operation ids** are the handlers' names (``list_alerts``, ``acknowledge_alert``), renamed where the name
  alone is ambiguous (:data:`OPERATION_IDS`), instead of FastAPI's path-derived
  ``acknowledge_api_v1_alerts__alert_id__ack_post``: a generated client's method names. Summaries say
  the id in words ("Get health", not "Healthz").
- **Security**: the ``bearer`` scheme (HTTP bearer, the Authorize button of ``/docs``) that
  :mod:`api.auth` declares, and on each route the scope it needs (``read``, ``write``, ``admin``; OpenAPI
  3.1 lets a requirement that is not OAuth list roles): ``admin`` where the route asks for it, else by
  method as :func:`api.auth.scope_for` decides. Where reads are anonymous (a loopback-only server), read
  routes also accept no token (an empty requirement).
- **Errors**: one schema, RFC 9457 problem details (:mod:`api.problems`), for every error status, listed
  per route as it applies: 400 (a body that cannot be read) and 413 on routes with a request body, 401 on
  routes that check the caller, 403 where the scope is more than ``read``, 404 where a path or query
  parameter names something that may not exist, 422 on routes with parameters or a body, 503 (storage
  unavailable) on every route, since each reads the database.
- **Schema names** are unique and readable: two models of one name in different modules become
  ``<Module><Name>`` (``GlancePotencyPoint``), not FastAPI's ``api__glance_schemas__PotencyPoint``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.auth import scope_for
from api.problems import MEDIA_TYPE, Problem
from monitor.tokens import Scope

SCHEME = "bearer"  # api.auth.bearer's scheme_name

# Handler names that would be ambiguous or unclear as an operation id; every other route keeps its name.
OPERATION_IDS: dict[str, str] = {
    "healthz": "get_health",
    "dashboard": "get_dashboard",
    "metrics": "get_metrics",
    "acknowledge": "acknowledge_alert",
    "potency_history": "list_vial_potency",
    "list_events": "list_vial_events",
    "add_event": "add_vial_event",
    "location_series": "get_location_series",
    "potency_series": "get_vial_potency_series",
    "excursions": "get_excursions_csv",
    "location_report": "get_location_report_pdf",
    "vial_report": "get_vial_report_pdf",
    "list_audit": "list_audit_entries",
}

# Query parameters that name something by its key, a 404 when it does not exist (as path parameters do).
NAMING_QUERY = frozenset({"location", "vial", "sensor"})

# Each error status: its standard description here, the problem in the body.
ERRORS: dict[str, str] = {
    "400": "The request body cannot be read at all (not UTF-8 text, for one).",
    "401": "No usable API token: missing, malformed, unknown, revoked or expired (WWW-Authenticate: Bearer).",
    "403": "The token is valid but its scope does not cover this request.",
    "404": "What the path or a parameter names does not exist.",
    "413": "The request body is larger than `[api] max_request_bytes`.",
    "422": "A parameter or the body is invalid, or the request is refused; the detail names which and why.",
    "503": "The database is unavailable (locked, full, read-only or unreachable); try again later.",
}


def operation_id(route: APIRoute) -> str:
    """FastAPI's ``generate_unique_id_function``: the handler's name, or its row in OPERATION_IDS."""
    return OPERATION_IDS.get(route.name, route.name)


def _scope(method: str, operation: dict[str, Any]) -> Scope | None:
    """The scope an operation needs: None for an open route (no bearer requirement from FastAPI)."""
    scopes = [scope for requirement in operation.get("security", []) for scope in requirement.get(SCHEME, [])]
    if not any(SCHEME in requirement for requirement in operation.get("security", [])):
        return None
    return "admin" if "admin" in scopes else scope_for(method)


def _error_statuses(scope: Scope | None, operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    names_something = any(p.get("in") == "path" for p in params) or any(
        p.get("in") == "query" and p.get("name") in NAMING_QUERY for p in params
    )
    wanted = {
        "400": has_body,
        "401": scope is not None,
        "403": scope in ("write", "admin"),
        "404": names_something,
        "413": has_body,
        "422": bool(params) or has_body,
        "503": True,  # every documented route reads the database
    }
    return [status for status, applies in wanted.items() if applies]


def _rename_collisions(doc: dict[str, Any]) -> None:
    """``api__glance_schemas__PotencyPoint`` -> ``GlancePotencyPoint``; ``api__schemas__X`` -> ``X``."""
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for name in list(schemas):
        if "__" not in name:
            continue
        *modules, model = name.split("__")
        stem = modules[-1].removesuffix("schemas").strip("_")
        new = "".join(part.capitalize() for part in stem.split("_")) + model
        if new in schemas or new in renames.values():
            raise RuntimeError(f"two OpenAPI schemas would be named {new!r}: rename one of the models")
        renames[name] = new
    if not renames:
        return
    for old, new in renames.items():
        schemas[new] = schemas.pop(old) | {"title": new}  # the pages show the title
    pattern = re.compile(r"^#/components/schemas/(.+)$")

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (m := pattern.match(ref)) and m.group(1) in renames:
                node["$ref"] = f"#/components/schemas/{renames[m.group(1)]}"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


_HANDLER_NAMES = {operation_id: name for name, operation_id in OPERATION_IDS.items()}


def _readable_summary(operation: dict[str, Any]) -> None:
    """FastAPI's default summary is the handler's name in title case ("Healthz"); say the operation id
    in words instead ("Get health"). A summary a route sets itself is kept."""
    operation_id = str(operation.get("operationId", ""))
    handler = _HANDLER_NAMES.get(operation_id, operation_id)
    if operation.get("summary") == handler.replace("_", " ").title():
        operation["summary"] = operation_id.replace("_", " ").capitalize()


def _scope_note(scope: Scope | None, anonymous_reads: bool) -> str:
    if scope is None:
        return "**Access:** open, no token."
    if scope == "read" and anonymous_reads:
        return "**Access:** scope `read`; no token needed while the server binds to loopback only."
    return f"**Access:** a token of scope `{scope}` (`Authorization: Bearer <token>`)."


def build(app: FastAPI, anonymous_reads: bool) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, which we never send
        schemas.pop(unused, None)
    schemas["Problem"] = Problem.model_json_schema()
    problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    components["responses"] = {
        status: {"description": text, "content": problem}
        | ({"headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}} if status == "401" else {})
        for status, text in ERRORS.items()
    }
    for path_item in doc.get("paths", {}).values():
        for method, operation in path_item.items():
            scope = _scope(method, operation)
            if scope is not None:
                security: list[dict[str, list[str]]] = [{SCHEME: [scope]}]
                operation["security"] = [*security, {}] if scope == "read" and anonymous_reads else security
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(scope, operation):
                if status not in responses or status == "422":  # FastAPI's 422 names a body never sent
                    responses[status] = {"$ref": f"#/components/responses/{status}"}
            _readable_summary(operation)
            note = _scope_note(scope, anonymous_reads)
            operation["description"] = f"{operation.get('description', '').rstrip()}\n\n{note}".lstrip()
    _rename_collisions(doc)
    return doc


def install(app: FastAPI, anonymous_reads: bool) -> None:
    """Replace ``app.openapi`` with :func:`build`, computed once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, anonymous_reads)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it

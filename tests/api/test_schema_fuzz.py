"""schemathesis against the OpenAPI schema of a running server: every answer is one the schema promises.

Every operation gets requests generated from its schema, valid and not, sent with an admin token so the
writes run their handlers too, to a real uvicorn server on a real SQLite file. Each answer must be no 5xx
and conform to the document: a documented status, the documented content type and headers, a body valid
against the documented schema (errors included: RFC 9457 problem details). Then the same with a read token
and with a wrong one, for the 401 and 403 answers. (Driven through Hypothesis directly: schemathesis's own
pytest plugin does not run under this pytest version.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Served

EXAMPLES_PER_OPERATION = 15
MAX_WAIT_SECONDS = 0.2
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _exercise(
    served: Served,
    headers: dict[str, str],
    mode: GenerationMode,
    examples: int,
    checks: list[object],
) -> list[str]:
    """Run ``examples`` generated requests per operation through ``checks``; the labels tried."""
    schema = schemathesis.openapi.from_url(str(served.client.base_url.join("/openapi.json")))
    paths = served.client.get("/openapi.json").json()["paths"]
    tried: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        declared = paths[operation.path][operation.method.lower()]
        if mode is GenerationMode.NEGATIVE and not ({"parameters", "requestBody"} & declared.keys()):
            continue  # nothing to get wrong
        tried.append(operation.label)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk for minutes
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def conforms(case: schemathesis.Case) -> None:
            wait = (case.query or {}).get("wait")
            if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > MAX_WAIT_SECONDS:
                # A long-poll may rightly hold the request up to 60 s; its waiting is tested elsewhere.
                case.query["wait"] = MAX_WAIT_SECONDS
            case.call_and_validate(headers=headers, checks=checks, timeout=10)

        conforms()
    return tried


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_answer_conforms_to_the_schema(served: Served, mode: GenerationMode) -> None:
    """Whatever the schema allows, and much it does not: no 5xx, and every answer (status, content type,
    headers, body) is one the document describes. (Unknown query parameters are ignored, as HTTP APIs
    commonly do, so schemathesis's negative_data_rejection, which expects them refused, is not run.)"""
    tried = _exercise(served, served.auth("admin"), mode, EXAMPLES_PER_OPERATION, [*CONFORMANCE])
    assert "POST /api/v1/alerts/{alert_id}/ack" in tried
    assert "GET /api/v1/audit" in tried
    assert len(tried) >= (25 if mode is GenerationMode.POSITIVE else 20)


@pytest.mark.parametrize("who", ["read", "wrong"])
def test_refusals_conform_to_the_schema(served: Served, who: str) -> None:
    """A read token on writes and admin routes (403) and an unknown token everywhere (401): documented
    statuses with problem-details bodies and, on 401, WWW-Authenticate."""
    headers = served.auth("read") if who == "read" else {"Authorization": "Bearer not-a-token"}
    _exercise(served, headers, GenerationMode.POSITIVE, 3, [*CONFORMANCE])


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/silences/{2**64}",
        f"/api/v1/alerts/{2**64}",
        f"/api/v1/vials/{2**64}",
        f"/api/v1/alerts?since={2**64}",
        f"/api/v1/audit?after={2**64}",
    ],
    ids=["silence", "alert", "vial", "alerts-since", "audit-after"],
)
def test_numbers_beyond_sqlite_are_refused_naming_the_parameter(shared_served: Served, path: str) -> None:
    """An id or cursor past 64 bits (what schemathesis first found as a 500) is a 422, not a crash."""
    r = shared_served.client.get(path, headers=shared_served.auth("admin"))
    assert r.status_code == 422
    assert "less than or equal to 9223372036854775807" in r.json()["message"]

"""schemathesis against the OpenAPI schema of a running server: no generated request gets a 5xx.

Every operation gets requests generated from its schema, valid and not, sent with an admin token so the
writes run their handlers too, to a real uvicorn server on a real SQLite file. (Driven through Hypothesis
directly: schemathesis's own pytest plugin does not run under this pytest version.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import Served

EXAMPLES_PER_OPERATION = 15
MAX_WAIT_SECONDS = 0.2


def test_no_request_gets_a_server_error(served: Served) -> None:
    """Whatever the schema allows (and much it does not), no operation answers with a 5xx."""
    schema = schemathesis.openapi.from_url(str(served.client.base_url.join("/openapi.json")))
    headers = served.auth("admin")
    tried: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk for minutes
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(case=operation.as_strategy())
        def no_server_error(case: schemathesis.Case) -> None:
            wait = (case.query or {}).get("wait")
            if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > MAX_WAIT_SECONDS:
                # A long-poll may rightly hold the request up to 60 s; its waiting is tested elsewhere.
                case.query["wait"] = MAX_WAIT_SECONDS
            case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=10)

        no_server_error()
    assert "POST /api/v1/alerts/{alert_id}/ack" in tried
    assert "GET /api/v1/audit" in tried
    assert len(tried) >= 25


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
def test_numbers_beyond_sqlite_are_refused_naming_the_parameter(served: Served, path: str) -> None:
    """An id or cursor past 64 bits (what schemathesis first found as a 500) is a 422, not a crash."""
    r = served.client.get(path, headers=served.auth("admin"))
    assert r.status_code == 422
    assert "less than or equal to 9223372036854775807" in r.json()["message"]

"""schemathesis over the live API: every operation of the OpenAPI at /api, generated requests (valid and
not), against ``safeground serve`` on 127.0.0.1. No answer may be a 5xx, every answer's content type and
(where declared) body must match the description, and every error must be the one JSON shape.

Run as the public and as a data entry user (the Part 4 writes reach the review queue of a copy).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from safeground.services import accounts as acc_svc
from tests.web_server import serve_cli

PASSWORD = "the long road to Chaykend"
ERROR_KEYS = {"code", "status", "message", "hint"}
#: generated requests per operation (about 1,500 in all, both readers: under a minute on loopback)
EXAMPLES = 25
#: the browser pages (workspace, the public page): held to no 5xx only
PAGES = ("/workspace", "/safe")


@pytest.fixture(scope="module")
def live(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(URL of the server, a data entry user's token)."""
    store = tmp_path_factory.mktemp("schemathesis") / "s.gpkg"
    shutil.copy(small_store, store)
    acc_svc.add_organisation(str(store), "Org OPA", "ngo", acronym="OPA", actor="setup")
    acc_svc.add_user(str(store), "op", full_name="op", organisation="OPA", role="data_entry", password=PASSWORD,
                     actor="setup")  # fmt: skip
    token = acc_svc.add_token(str(store), "op", "fuzz", actor="setup")
    with serve_cli(str(store)) as url:
        yield url, token


def _one_error_shape(response: schemathesis.Response) -> None:
    if response.status_code >= 400:
        body = response.json()
        assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"problems"} and body["status"] == response.status_code, body


def _fuzz(url: str, headers: dict[str, str]) -> dict[str, str]:
    """Each operation of the live OpenAPI with generated requests; what failed, per operation."""
    api = schemathesis.openapi.from_url(url + "/api?f=json")
    failures: dict[str, str] = {}
    operations = [r.ok() for r in api.get_all_operations()]
    assert len(operations) >= 30
    for op in operations:
        page = op.path.startswith(PAGES)  # run() below is called in this iteration only

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, headers=headers, timeout=60)
            if page:  # noqa: B023  # browser pages: no 5xx (their HTML is not described by the API)
                case.validate_response(response, checks=[not_a_server_error])
                return
            case.validate_response(
                response, checks=[not_a_server_error, content_type_conformance, response_schema_conformance]
            )
            _one_error_shape(response)

        t0 = time.monotonic()
        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the failures listed together
            failures[f"{op.method.upper()} {op.path}"] = str(exc)[:600]
        print(f"{op.method.upper()} {op.path}: {time.monotonic() - t0:.1f} s", flush=True)
    return failures


def test_no_request_of_the_public_breaks_the_server(live: tuple[str, str]) -> None:
    failures = _fuzz(live[0], {})
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())


def test_no_request_of_a_data_entry_user_breaks_the_server(live: tuple[str, str]) -> None:
    failures = _fuzz(live[0], {"Authorization": f"Bearer {live[1]}"})
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())

"""Schema fuzzing: every operation of the OpenAPI document, against a real ``housing-api serve``.

Schemathesis generates requests from the app's own OpenAPI document (valid
and invalid bodies and parameters, methods a path does not serve) and checks
every answer: never a 5xx, every status documented, every body, header and
content type as the document says, invalid data refused, the credential
enforced (it replays a case without it and with a forged one). Then it chains
operations along the links it infers (list keys, then rotate or revoke one).
The operations come from the document, not from a list here, so a new route
is fuzzed the day it is added.

The server is the real thing (``tests.support.service``: Uvicorn, the
lifespan, SQLite, the edge layer, in a process of its own), so the fuzzer
meets the parsing and middleware a client meets. Each case carries the least
credential its route accepts (``tests.support.fuzzing``), so generated
requests reach the route's own code; a check below fails if a protected
route never answered past the guard.

Limits stay on, sized for one client sending thousands of requests from one
address: the fuzzing keys get 10,000,000/minute, and so do the per-address
budgets for anonymous calls and failed authentications (the auth check sends
credential-less probes on purpose).

Two checks are off, each for a rule of the contract: ``positive_data_acceptance``
expects every schema-valid body accepted, and some are refused by rules no
JSON Schema states (a password's strength, a limit string's bounds, a scope
ceiling); ``use_after_free`` expects a deleted resource to be gone, and
``DELETE /admin/keys/{id}`` revokes: the key stays readable, with its
``revoked_at``, for the audit trail.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import FlakyStrategyDefinition

from app.main import create_app
from app.settings import Settings
from tests.support import figures as figure_book
from tests.support.fuzzing import (
    Credential,
    FuzzTarget,
    Tally,
    credential_for,
    required_scopes,
)
from tests.support.service import MODELS_DIR, serve

ADMIN = "fuzz-admin"
ADMIN_PASSWORD = "fuzzing-passphrase-of-some-length"
GENEROUS = "10000000/minute"
"""The largest limit a key may have: one client may send every case."""
SERVER_SETTINGS = {
    "ENV": "test",
    "LOG_LEVEL": "WARNING",
    "FIRST_ADMIN_USERNAME": ADMIN,
    "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "ANONYMOUS_RATE_LIMIT": GENEROUS,
    "AUTH_FAILURE_LIMIT": GENEROUS,
}
MAX_EXAMPLES = 150
"""Per operation; operations with few distinct inputs stop earlier. 2,000 cases at least in all."""
MIN_CASES = 2000
SCENARIOS, STEPS = 40, 8
"""Workflows: scenarios of up to this many linked calls."""
MIN_WORKFLOW_CASES = 100
"""Linked calls a run must have checked to count (a full run makes 200 to 340)."""
NOT_REACHED = frozenset({401, 403, 405, 429})
"""Answers given before a route's code runs: the guard's, or a method the path does not serve."""
SECTION = "schema fuzzing (schemathesis, real housing-api serve)"
CREDENTIALS = (  # least privileged first; API keys, the credential the APIKey scheme names
    Credential("predict", frozenset({"predict"})),
    Credential("admin", frozenset({"admin"})),
)
CHECKS = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            "use_after_free": {"enabled": False},
        }
    }
)


def _document_app() -> FastAPI:
    """The app in-process, only for its OpenAPI document and its route table."""
    return create_app(Settings(_env_file=None, env="test", models_dir=MODELS_DIR))  # type: ignore[call-arg]


APP = _document_app()
NEEDS = required_scopes(APP)
schema = schemathesis.openapi.from_dict(APP.openapi(), config=CHECKS)


@schema.auth(refresh_interval=None)
class FuzzCredentials:
    """Each case carries its credential's placeholder in place of generated credentials."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> Credential | None:
        return credential_for(case.operation.label, NEEDS, CREDENTIALS)

    def set(
        self, case: schemathesis.Case, data: Credential, context: schemathesis.AuthContext
    ) -> None:
        case.headers = {**(case.headers or {}), data.header: data.placeholder}


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with serve(tmp_path_factory.mktemp("fuzz"), SERVER_SETTINGS) as api:
        served = httpx.get(f"{api.base_url}/openapi.json").json()
        assert served == json.loads(json.dumps(APP.openapi())), "the served document differs"
        with (
            httpx.Client(base_url=api.base_url) as admin,
            requests.Session() as session,
        ):
            secrets, own = _credentials(admin)
            scopes = sorted(CREDENTIALS[-1].scopes)
            yield FuzzTarget(api.base_url, session, admin, secrets, own, scopes)


def _credentials(admin: httpx.Client) -> tuple[dict[str, str], dict[str, str]]:
    """The fuzzing keys, made with the first admin's token; ``admin`` keeps the admin key."""
    login = admin.post(
        "/token", data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    secrets, own = {}, {ADMIN: "user"}
    for credential in CREDENTIALS:
        body = {"name": f"fuzz {credential.name}", "scopes": sorted(credential.scopes)}
        made = admin.post("/admin/keys", json={**body, "rate_limit": GENEROUS}, headers=bearer)
        assert made.status_code == 201, made.text
        secrets[credential.placeholder] = made.json()["key"]
        own[made.json()["id"]] = "key"
    admin.headers[CREDENTIALS[-1].header] = secrets[CREDENTIALS[-1].placeholder]
    return secrets, own


@dataclass
class Tallies:
    cases: Tally = field(default_factory=Tally)
    workflows: Tally = field(default_factory=Tally)


@pytest.fixture(scope="module")
def tallies(fuzz_target: FuzzTarget, request: pytest.FixtureRequest) -> Iterator[Tallies]:
    tallies = Tallies()
    yield tallies
    sheet = figure_book.module_sheet(request, SECTION)
    sheet.record("cases", tallies.cases.summary())
    if tallies.workflows.cases:
        sheet.record("workflows", tallies.workflows.summary())
    decoys = ", ".join(f"{kind} x{n}" for kind, n in sorted(fuzz_target.decoys.items()))
    sheet.record("decoys aimed at in place of the fuzzer's own", decoys or "none")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: schemathesis.Case, fuzz_target: FuzzTarget, tallies: Tallies
) -> None:
    tally = tallies.cases
    fuzz_target.prepare(case)
    response = case.call(base_url=fuzz_target.base_url, session=fuzz_target.session)
    tally.answered(case.operation.label, response.status_code)
    try:
        case.validate_response(response)
    except BaseException:  # schemathesis's FailureGroup is a BaseExceptionGroup
        tally.failing.add(case.operation.label)
        raise


def test_the_fuzzing_reached_every_operation_past_the_guard(
    tallies: Tallies, request: pytest.FixtureRequest
) -> None:
    tally = tallies.cases
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {operation.label for operation in operations}
    prefix = f"{test_every_answer_is_documented_and_none_is_a_server_error.__name__}["
    selected = {
        item.name.removeprefix(prefix).removesuffix("]")
        for item in request.session.items
        if item.name.startswith(prefix)
    }
    if selected != documented:
        pytest.skip(f"{len(selected)} of {len(documented)} operations selected for fuzzing")
    assert set(tally.cases) == documented
    assert sum(tally.cases.values()) >= MIN_CASES
    secured = {
        operation.label for operation in operations if operation.definition.raw.get("security")
    }
    assert set(NEEDS) == secured, "credentials were chosen for other operations than the secured"
    never_past_the_guard = [
        operation for operation in NEEDS if set(tally.statuses[operation]) <= NOT_REACHED
    ]
    assert never_past_the_guard == []


def test_linked_workflows_keep_every_answer_documented(
    fuzz_target: FuzzTarget, tallies: Tallies
) -> None:
    workflows = tallies.workflows = Tally()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            fuzz_target.prepare(case)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"base_url": fuzz_target.base_url, "session": fuzz_target.session}

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            workflows.answered(case.operation.label, response.status_code)

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case, *args: Any, **kw: Any
        ) -> None:
            try:
                super().validate_response(response, case, *args, **kw)
            except BaseException:
                workflows.failing.add(case.operation.label)
                raise

    # The server keeps what earlier scenarios did (a username now taken, a key now
    # revoked), so a later scenario can find a link disabled that an earlier one
    # followed at the same step, and hypothesis stops generating. Every answer it got
    # was checked (a failing one is in `workflows.failing`), and enough of them must
    # have been checked for the run to count.
    with contextlib.suppress(FlakyStrategyDefinition):
        Workflow.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                # A live server's state cannot be replayed: shrinking a failure re-runs
                # steps against a server that has moved on, and hypothesis then reports
                # FlakyStrategyDefinition instead of the failure itself.
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
            )
        )
    assert not workflows.failing, workflows.summary()
    assert sum(workflows.cases.values()) >= MIN_WORKFLOW_CASES, workflows.summary()
    assert workflows.cases, "no workflow ran"
    _assert_credentials_intact(fuzz_target)


def _assert_credentials_intact(fuzz_target: FuzzTarget) -> None:
    """The decoys took every blow aimed at the fuzzer's own keys and admin."""
    for identifier, kind in fuzz_target.own.items():
        if kind == "key":
            key = fuzz_target.admin.get(f"/admin/keys/{identifier}")
            assert key.status_code == 200, key.text
            assert key.json()["revoked_at"] is None
    users = fuzz_target.admin.get("/admin/users")
    assert users.status_code == 200, users.text
    assert {u for u, kind in fuzz_target.own.items() if kind == "user"} <= {
        user["username"] for user in users.json()
    }

"""Schema fuzzing: every operation of the OpenAPI document, against a real ``housing-api serve``.

Schemathesis generates requests from the app's own OpenAPI document (valid
and invalid bodies, parameters, methods the path does not serve) and checks
every answer: never a 5xx, every status documented, every body, header and
content type as the document says, invalid data refused, the credential
enforced. The operations are read from the document, not listed here, so a
new route is fuzzed the day it is added.

The server is the real thing (``tests.support.service``: Uvicorn, the
lifespan, SQLite, the edge layer, in its own process), so the fuzzer meets
the same parsing and middleware as a client. Each case carries a credential
that holds the scope its route asks for (read from the route's
``Authenticator``), so generated requests reach the route's own code.

Limits are kept, but sized for one client sending thousands of requests
from one address: the fuzzing credentials get a 10,000,000/minute limit, and
so do the per-address budgets for anonymous calls and failed
authentications (the auth check sends credential-less probes on purpose).
A check below fails if any protected route never got past the guard.

The fuzzer may not revoke, rotate or reset its own credentials (that would
turn the rest of the run into 401s): a case whose path names one of them is
filtered out before it is sent; every other target is fair game.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.deps import Authenticator
from app.main import create_app
from app.settings import Settings
from tests.support import figures
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
    "ACCESS_TOKEN_TTL_SECONDS": "3600",
}
MAX_EXAMPLES = 150
"""Per operation; operations with few distinct inputs stop earlier. 2,000 cases at least in all."""
MIN_CASES = 2000
NOT_REACHED = frozenset({401, 403, 405, 429})
"""Answers given before a route's code runs: the guard's, or a method the path does not serve."""


def _document_app() -> FastAPI:
    """The app in-process, only for its OpenAPI document and its route table."""
    return create_app(Settings(_env_file=None, env="test", models_dir=MODELS_DIR))  # type: ignore[call-arg]


APP = _document_app()
schema = schemathesis.openapi.from_dict(APP.openapi())


def _authenticator(route: APIRoute) -> Authenticator | None:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Authenticator):
            return dependant.call
        pending.extend(dependant.dependencies)
    return None


def required_scopes(app: FastAPI) -> dict[str, frozenset[str] | None]:
    """Per protected operation ("POST /v1/predict"): the scopes it accepts (``None``: any)."""
    needs: dict[str, frozenset[str] | None] = {}
    for context in iter_route_contexts(app.routes):  # what the OpenAPI document is built from
        route = context.original_route
        if isinstance(route, APIRoute) and (found := _authenticator(route)) is not None:
            for method in route.methods:
                needs[f"{method} {context.path}"] = found.any_of
    return needs


@dataclass(frozen=True)
class Credential:
    name: str
    scopes: frozenset[str]
    header: str

    @property
    def placeholder(self) -> str:
        """What a case carries until it is sent: coverage cases are built before the server runs."""
        return f"<fuzzing credential {self.name}>"


CREDENTIALS = (  # least privileged first
    Credential("predict", frozenset({"predict"}), "X-API-Key"),
    Credential("admin", frozenset({"admin"}), "X-API-Key"),
)
NEEDS = required_scopes(APP)


def credential_for(operation: str) -> Credential | None:
    """The least credential the operation accepts; none for a public one."""
    if operation not in NEEDS:
        return None
    accepted = NEEDS[operation]
    for credential in CREDENTIALS:
        if accepted is None or credential.scopes & accepted:
            return credential
    raise AssertionError(f"no fuzzing credential may call {operation}")


@schema.auth(refresh_interval=None)
class FuzzCredentials:
    """Each case carries its credential in place of generated ones (the auth check then
    probes the route without it and with a forged one)."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> Credential | None:
        return credential_for(case.operation.label)

    def set(
        self, case: schemathesis.Case, data: Credential, context: schemathesis.AuthContext
    ) -> None:
        case.headers = {**(case.headers or {}), data.header: data.placeholder}


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    cases: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)

    def answered(self, operation: str, status: int) -> None:
        self.cases[operation] += 1
        self.statuses.setdefault(operation, Counter())[status] += 1


@dataclass
class FuzzTarget:
    base_url: str
    session: requests.Session
    secrets: dict[str, str]
    """Header value per placeholder."""
    tally: Tally = field(default_factory=Tally)

    def with_secrets(self, case: schemathesis.Case) -> None:
        headers = case.headers or {}
        for name, value in headers.items():
            if value in self.secrets:
                headers[name] = self.secrets[value]


OWN_IDENTIFIERS: set[str] = set()
"""The fuzzer's own admin and key ids, for the filter hook (hooks get no fixtures)."""


@schema.hook
def filter_case(context: Any, case: schemathesis.Case) -> bool:
    """No case may name the fuzzer's own credentials in its path (revoke, rotate, reset)."""
    return not OWN_IDENTIFIERS & {str(value) for value in (case.path_parameters or {}).values()}


def _create_credentials(base_url: str) -> tuple[dict[str, str], set[str]]:
    """API keys, the credential the document's ``APIKey`` scheme names (so the auth check's
    probes, which drop or forge it, mean something); the first admin's token makes them."""
    secrets: dict[str, str] = {}
    own = {ADMIN}
    with httpx.Client(base_url=base_url) as client:
        login = client.post(
            "/token",
            data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD},
        )
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for credential in CREDENTIALS:
            body = {"name": f"fuzz {credential.name}", "scopes": sorted(credential.scopes)}
            made = client.post("/admin/keys", json={**body, "rate_limit": GENEROUS}, headers=bearer)
            assert made.status_code == 201, made.text
            secrets[credential.placeholder] = made.json()["key"]
            own.add(made.json()["id"])
    return secrets, own


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with serve(tmp_path_factory.mktemp("fuzz"), SERVER_SETTINGS) as api:
        served = httpx.get(f"{api.base_url}/openapi.json").json()
        assert served == json.loads(json.dumps(APP.openapi())), "the served document differs"
        secrets, own = _create_credentials(api.base_url)
        OWN_IDENTIFIERS.update(own)
        with requests.Session() as session:
            target = FuzzTarget(api.base_url, session, secrets)
            try:
                yield target
            finally:
                OWN_IDENTIFIERS.clear()
                _record_figures(target.tally)


def _record_figures(tally: Tally) -> None:
    answers: Counter[int] = sum(tally.statuses.values(), Counter())
    figures.record(
        "schema fuzzing (schemathesis, real housing-api serve)",
        f"{len(tally.cases)} operations, {sum(tally.cases.values()):,} cases in "
        f"{time.monotonic() - tally.started:.0f} s, {len(tally.failing)} failing operations"
        + (f": {', '.join(sorted(tally.failing))}" if tally.failing else ""),
    )
    figures.record(
        "schema fuzzing (schemathesis, real housing-api serve)",
        "answers: "
        + ", ".join(f"{status} x{count:,}" for status, count in sorted(answers.items())),
    )


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: schemathesis.Case, fuzz_target: FuzzTarget
) -> None:
    operation = case.operation.label
    fuzz_target.with_secrets(case)
    response = case.call(base_url=fuzz_target.base_url, session=fuzz_target.session)
    fuzz_target.tally.answered(operation, response.status_code)
    try:
        # Every built-in check but one: a schema-valid body may still break a rule no JSON
        # Schema states (a password's strength, a limit string's bounds, a scope ceiling).
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
    except BaseException:  # schemathesis's FailureGroup is a BaseExceptionGroup
        fuzz_target.tally.failing.add(operation)
        raise


def test_the_fuzzing_reached_every_operation_past_the_guard(
    fuzz_target: FuzzTarget, request: pytest.FixtureRequest
) -> None:
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
    tally = fuzz_target.tally
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

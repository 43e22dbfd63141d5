"""What schema fuzzing needs beyond schemathesis: credentials per route, decoys, a tally.

- **Credentials**: each protected route asks its ``Authenticator`` for scopes;
  a case gets the least privileged fuzzing credential that holds one of them,
  as a placeholder while it is generated (some cases are built before the
  server runs) and as the secret when it is sent.
- **Decoys**: a case whose path names one of the fuzzer's own credentials
  (its keys, its admin) is aimed at a decoy of the same kind made for it, so
  revoking, rotating or deleting is still exercised on a real resource while
  the fuzzer keeps working.
- **Tally**: cases and answers per operation, failing operations, decoys.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx
import requests
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from app.deps import Authenticator


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
    header: str = "X-API-Key"

    @property
    def placeholder(self) -> str:
        return f"<fuzzing credential {self.name}>"


def credential_for(
    operation: str, needs: dict[str, frozenset[str] | None], credentials: Iterable[Credential]
) -> Credential | None:
    """The first (least privileged) credential the operation accepts; none for a public one."""
    if operation not in needs:
        return None
    accepted = needs[operation]
    for credential in credentials:
        if accepted is None or credential.scopes & accepted:
            return credential
    raise AssertionError(f"no fuzzing credential may call {operation}")


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    last_answer: float = 0.0
    cases: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)

    def answered(self, operation: str, status: int) -> None:
        self.last_answer = time.monotonic()
        self.cases[operation] += 1
        self.statuses.setdefault(operation, Counter())[status] += 1

    def answers(self) -> Counter[int]:
        return sum(self.statuses.values(), Counter())

    def summary(self) -> str:
        failing = f": {', '.join(sorted(self.failing))}" if self.failing else ""
        counts = ", ".join(f"{status} x{n:,}" for status, n in sorted(self.answers().items()))
        seconds = max(0.0, self.last_answer - self.started)
        return (
            f"{len(self.cases)} operations, {sum(self.cases.values()):,} cases in {seconds:.0f} s, "
            f"{len(self.failing)} failing operations{failing}; answers: {counts}"
        )


DECOY_PASSWORD_BYTES = 24


@dataclass
class FuzzTarget:
    base_url: str
    session: requests.Session
    admin: httpx.Client
    """Authenticated as the fuzzer's admin: makes the decoys."""
    secrets: dict[str, str]
    """The secret header value of each credential placeholder."""
    own: dict[str, str]
    """The fuzzer's own identifiers (key ids, usernames) and the kind of each: "key", "user"."""
    decoy_scopes: list[str]
    """What decoys may do: scopes the admin credential holds, so it may grant them."""
    decoys: Counter[str] = field(default_factory=Counter)

    def prepare(self, case: schemathesis.Case) -> None:
        """Secrets in place of placeholders; decoys in place of the fuzzer's own identifiers."""
        headers = case.headers or {}
        for name, value in headers.items():
            if value in self.secrets:
                headers[name] = self.secrets[value]
        parameters = case.path_parameters or {}
        for name, value in parameters.items():
            if str(value) in self.own:
                parameters[name] = self._decoy(self.own[str(value)])

    def _decoy(self, kind: str) -> str:
        self.decoys[kind] += 1
        if kind == "key":
            made = self.admin.post(
                "/admin/keys", json={"name": "decoy", "scopes": self.decoy_scopes}
            )
            assert made.status_code == 201, made.text
            return str(made.json()["id"])
        username = f"decoy-{self.decoys[kind]}"
        password = secrets.token_urlsafe(DECOY_PASSWORD_BYTES)
        body = {"username": username, "password": password, "scopes": self.decoy_scopes}
        made = self.admin.post("/admin/users", json=body)
        assert made.status_code == 201, made.text
        return username

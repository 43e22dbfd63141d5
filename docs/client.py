"""A client for the Housing Price API to copy into your project: typed, small, httpx only.

    from client import HousingClient, PasswordGrant, TokenAuth

    auth = TokenAuth(PasswordGrant("admin", "choose-a-long-passphrase"))
    with HousingClient("http://127.0.0.1:8000", auth) as api:
        api.predict({"lotsize": 5850, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1})
        # Prediction(price=67507.24, model_version='v1', out_of_training_range=[])

What it does, and why:

- **Grants slot in.** ``TokenAuth`` asks a ``Grant`` for the form of its first
  token request and knows nothing else about it: ``PasswordGrant`` is one; a
  client-credentials grant is the same few lines returning
  ``{"grant_type": "client_credentials", "client_id": ..., "client_secret": ...}``.
  ``ApiKeyAuth`` sends an admin-made key instead.
- **Access tokens are renewed before they expire**: ``refresh_margin`` seconds
  before ``expires_in`` runs out, measured on this process's monotonic clock
  from the moment the token was asked for, so a wrong wall clock cannot make
  it late. Refresh tokens rotate — each refresh answers a new one and spends
  the old — so only the newest is kept. A refresh the server refuses (logged
  out, or the login's 30-day limit reached) falls back to the grant; a 401 on
  a call (the access token was revoked) renews once and tries once more.
- **429 and 503 are retried** after the ``Retry-After`` the server sends, at
  most ``max_attempts`` sends in all and never a single wait over
  ``max_wait``; past either, ``RetryLater`` says how long to wait. Predictions
  have no side effects, so sending one twice is harmless.
- **Batches** of any length go out in requests of at most 1,000 instances,
  the API's cap, and come back in order.

Use one client per thread: the token state is not locked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol

import httpx

Features = Mapping[str, float | int | bool]
"""One house: v1's five fields, or v2's eleven."""
MAX_BATCH = 1000
RETRYABLE = frozenset({429, 503})
"""The answers that carry ``Retry-After`` and mean "the same request will work later"."""


class ApiError(Exception):
    """An answer that is not a result: its status and its body."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        try:
            self.body: Any = response.json()
        except ValueError:
            self.body = response.text
        request = response.request
        super().__init__(f"{request.method} {request.url.path}: {self.status_code} {self.body}")


class RetryLater(ApiError):
    """Still 429 or 503 after the attempts allowed, or asked to wait over ``max_wait``."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response)
        self.retry_after = retry_after(response)


def retry_after(response: httpx.Response) -> float:
    """Seconds to wait (RFC 9110 §10.2.3: a number of seconds or an HTTP date); 1 if absent."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


class Grant(Protocol):
    """How a first access token is obtained: the form of one RFC 6749 token request."""

    def form(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class PasswordGrant:
    """RFC 6749 §4.3: a user's name and password; ``scope`` narrows the token to fewer scopes."""

    username: str
    password: str = field(repr=False)
    scope: str | None = None

    def form(self) -> dict[str, str]:
        form = {"grant_type": "password", "username": self.username, "password": self.password}
        if self.scope:
            form["scope"] = self.scope
        return form


class ApiKeyAuth(httpx.Auth):
    """An ``hpk_…`` key an admin created, sent as ``X-API-Key``."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-API-Key"] = self._key
        yield request


class TokenAuth(httpx.Auth):
    """Bearer tokens from a grant, renewed before they expire, refresh tokens rotated."""

    requires_response_body = True

    def __init__(
        self,
        grant: Grant,
        *,
        token_path: str = "/token",  # noqa: S107 - a path, not a password
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.grant = grant
        self._token_path = token_path
        self._margin = refresh_margin
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._renew_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._access is None or self._clock() >= self._renew_at:
            yield from self._renew(request.url)
        request.headers["Authorization"] = f"Bearer {self._access}"
        response = yield request
        if response.status_code == 401:
            yield from self._renew(request.url)
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request

    def _renew(self, url: httpx.URL) -> Generator[httpx.Request, httpx.Response, None]:
        """Refresh while a refresh token is held; the grant if none is, or the server refuses it."""
        token_url = url.join(self._token_path)
        if self._refresh is not None:
            refresh = {"grant_type": "refresh_token", "refresh_token": self._refresh}
            self._refresh = None  # spent whatever the answer: never sent twice
            asked_at = self._clock()
            response = yield httpx.Request("POST", token_url, data=refresh)
            if response.status_code == 200:
                self._keep(response.json(), asked_at)
                return
            if response.status_code != 400:  # 400 invalid_grant: log in again below
                raise ApiError(response)
        asked_at = self._clock()
        response = yield httpx.Request("POST", token_url, data=self.grant.form())
        if response.status_code != 200:
            raise ApiError(response)
        self._keep(response.json(), asked_at)

    def _keep(self, token: Mapping[str, Any], asked_at: float) -> None:
        self._access = str(token["access_token"])
        self._refresh = token.get("refresh_token")
        self._renew_at = asked_at + float(token["expires_in"]) - self._margin


@dataclass(frozen=True, slots=True)
class Prediction:
    price: float
    model_version: str
    out_of_training_range: list[str]
    """The features outside what the model was trained on: where it extrapolates."""


class HousingClient:
    """The API's inference endpoints, with retries on 429/503 after ``Retry-After``."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        http: httpx.Client | None = None,
        max_attempts: int = 3,
        max_wait: float = 30.0,
    ) -> None:
        """``http``: your own httpx client (TLS trust, proxies, event hooks); closed by you."""
        if max_attempts < 1:
            raise ValueError("max_attempts counts every send, the first included: at least 1")
        self._base = httpx.URL(base_url)
        self._auth = auth
        self._owned = http is None
        self._http = http if http is not None else httpx.Client(timeout=10.0)
        self._max_attempts = max_attempts
        self._max_wait = max_wait

    def predict(self, features: Features, version: str = "v1") -> Prediction:
        answer = self._call("POST", f"/{version}/predict", dict(features))
        return Prediction(
            answer["predicted_price"], answer["model_version"], answer["out_of_training_range"]
        )

    def predict_batch(
        self, houses: Iterable[Features], version: str = "v1", chunk: int = MAX_BATCH
    ) -> list[Prediction]:
        """One prediction per house, in order, in requests of at most ``chunk`` houses."""
        results: list[Prediction] = []
        for part in _chunks(houses, min(chunk, MAX_BATCH)):
            instances = [dict(house) for house in part]
            answer = self._call("POST", f"/{version}/predict/batch", {"instances": instances})
            results += [
                Prediction(price, answer["model_version"], outside)
                for price, outside in zip(
                    answer["predictions"], answer["out_of_training_range"], strict=True
                )
            ]
        return results

    def model(self, version: str = "v1") -> dict[str, Any]:
        """The version's metadata: features and their allowed ranges, metrics, artifact hash."""
        return dict(self._call("GET", f"/{version}/model"))

    def _call(self, method: str, path: str, body: object = None) -> Any:
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._http.request(
                    method, self._base.join(path), json=body, auth=self._auth
                )
            except ApiError as refused:  # the token endpoint's own answer
                if refused.status_code not in RETRYABLE:
                    raise
                response = refused.response
            if response.status_code not in RETRYABLE:
                break
            wait = retry_after(response)
            if attempt == self._max_attempts or wait > self._max_wait:
                raise RetryLater(response)
            time.sleep(wait)
        if response.is_error:
            raise ApiError(response)
        return response.json()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> HousingClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _chunks(houses: Iterable[Features], size: int) -> Iterator[Sequence[Features]]:
    part: list[Features] = []
    for house in houses:
        part.append(house)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part

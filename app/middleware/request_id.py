"""Request ids: taken from the proxy (nginx's ``$request_id``) or made here, echoed back.

The id lives in a context variable so every log line of the request carries it.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope

from app.middleware.response_start import ResponseStartMiddleware

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

SCOPE_KEY = "request_id"
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdMiddleware(ResponseStartMiddleware):
    @contextlib.contextmanager
    def around_request(self, scope: Scope) -> Iterator[None]:
        incoming = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        scope[SCOPE_KEY] = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        token = current_request_id.set(scope[SCOPE_KEY])
        try:
            yield
        finally:
            current_request_id.reset(token)

    def on_response_start(self, scope: Scope, message: Message) -> None:
        MutableHeaders(scope=message)[HEADER] = scope[SCOPE_KEY]

"""The shape every middleware here shares: act once, when an HTTP response starts.

Subclasses implement ``on_response_start``, which sees the request's scope
and the ``http.response.start`` message (its status, its mutable headers)
before it goes out; ``around_request`` may wrap the whole request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ResponseStartMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def on_response_start(self, scope: Scope, message: Message) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def around_request(self, scope: Scope) -> Iterator[None]:
        yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.on_response_start(scope, message)
            await send(message)

        with self.around_request(scope):
            await self.app(scope, receive, send_observed)

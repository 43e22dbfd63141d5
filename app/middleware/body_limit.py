"""A cap on request bodies, enforced before anything parses them.

nginx caps bodies at the edge; the embedded server (``make run``) has no
edge, and FastAPI reads and parses a body before authenticating the request.
Without a cap, one unauthenticated 100 MB POST costs half a gigabyte of
memory. A declared ``Content-Length`` over the cap is refused without reading
anything; a body that streams past it is refused when it does.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.responses import json_error


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return f"request body too large (at most {self.max_bytes} bytes)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            response = json_error(status.HTTP_413_CONTENT_TOO_LARGE, self._too_large())
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, self._too_large())
            return message

        await self.app(scope, counting_receive, send)

"""The one error type: any ApiError becomes a {"detail": ...} answer with its status and headers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import ApiError, install_error_handlers


def test_api_error_is_answered_with_its_status_detail_and_headers() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/teapot")
    async def teapot() -> None:
        raise ApiError(418, "short and stout", headers={"Retry-After": "7"})

    response = TestClient(app).get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "short and stout"}
    assert response.headers["retry-after"] == "7"

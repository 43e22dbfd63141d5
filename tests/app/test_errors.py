"""The one error type: any ApiError becomes a {"detail": ...} answer with its status and headers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
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


def _app_with_a_router() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    router = APIRouter(prefix="/things")

    @router.get("")
    async def list_things() -> list[str]:
        return []

    @router.post("")
    async def add_thing(thing: dict[str, int]) -> dict[str, int]:
        return thing

    app.include_router(router)
    return app


def test_a_json_body_that_is_not_utf8_is_the_list_shaped_422_of_invalid_json() -> None:
    response = TestClient(_app_with_a_router()).post(
        "/things", content=b'{"a": "\xff"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": "body: not UTF-8 encoded JSON", "type": "json_invalid"}]
    }


def test_a_405_names_every_method_served_at_the_path() -> None:
    response = TestClient(_app_with_a_router()).delete("/things")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_an_unknown_path_is_a_404_in_the_detail_shape() -> None:
    response = TestClient(_app_with_a_router()).get("/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}

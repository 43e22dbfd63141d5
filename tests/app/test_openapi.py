"""The OpenAPI document states who may call what and how each route can fail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.guard import GuardedRoute


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_protected_operation_declares_its_schemes_and_failures(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"OAuth2", "APIKey"}
    guarded = {
        f"{method} {context.path}"
        for context in iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
        if isinstance(context.original_route, GuardedRoute)
        for method in context.methods or ()
    }
    declaring = set()
    for name, operation in _operations(schema):
        if "security" in operation:
            declaring.add(name)
            schemes = {scheme for requirement in operation["security"] for scheme in requirement}
            assert schemes == {"OAuth2", "APIKey"}, name
            assert {"401", "403", "429", "503"} <= set(operation["responses"]), name
    assert guarded
    assert declaring == guarded


def test_every_body_may_be_too_large_or_invalid(client: TestClient) -> None:
    for name, operation in _operations(client.get("/openapi.json").json()):
        if "requestBody" in operation:
            assert {"413", "422"} <= set(operation["responses"]), name


def test_every_resource_named_in_the_path_may_be_unknown(client: TestClient) -> None:
    for name, operation in _operations(client.get("/openapi.json").json()):
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", ())):
            assert "404" in operation["responses"], name


def test_a_422_is_list_shaped_wherever_it_is_declared(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for name, operation in _operations(schema):
        if "422" in operation["responses"]:
            body = operation["responses"]["422"]["content"]["application/json"]["schema"]
            detail = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
            assert detail["properties"]["detail"]["type"] == "array", name


def test_the_token_endpoint_documents_rfc6749_errors(client: TestClient) -> None:
    token = client.get("/openapi.json").json()["paths"]["/token"]["post"]
    assert {"200", "400", "429"} <= set(token["responses"])
    schema = client.get("/openapi.json").json()
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]
    fields = schema["components"]["schemas"][form["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"grant_type", "username", "password", "scope", "refresh_token"} == set(
        fields["properties"]
    )

"""The OpenAPI document states who may call what and how each route can fail."""

from __future__ import annotations

from fastapi.testclient import TestClient

PUBLIC = {"/healthz", "/readyz", "/token", "/token/revoke"}


def test_every_protected_operation_declares_its_schemes_and_failures(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"OAuth2", "APIKey"}
    protected = 0
    for path, operations in schema["paths"].items():
        if path in PUBLIC or not path.startswith(("/v1", "/v2", "/admin")):
            continue
        for method, operation in operations.items():
            protected += 1
            schemes = {name for requirement in operation["security"] for name in requirement}
            assert schemes == {"OAuth2", "APIKey"}, (method, path)
            assert {"401", "403", "429", "503"} <= set(operation["responses"]), (method, path)
    assert protected == 15


def test_the_token_endpoint_documents_rfc6749_errors(client: TestClient) -> None:
    token = client.get("/openapi.json").json()["paths"]["/token"]["post"]
    assert {"200", "400", "429"} <= set(token["responses"])
    schema = client.get("/openapi.json").json()
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]
    fields = schema["components"]["schemas"][form["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"grant_type", "username", "password", "scope", "refresh_token"} == set(
        fields["properties"]
    )

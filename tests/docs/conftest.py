"""The real service the client is tested against, with a one-minute access token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.service import ServedApi, serve

ADMIN = "admin"
ADMIN_PASSWORD = "a-long-test-passphrase"
ACCESS_TOKEN_TTL_SECONDS = 60
"""The shortest the settings allow: renewal is forced with a margin just under it."""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    settings = {
        "FIRST_ADMIN_USERNAME": ADMIN,
        "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ACCESS_TOKEN_TTL_SECONDS": str(ACCESS_TOKEN_TTL_SECONDS),
    }
    with serve(tmp_path_factory.mktemp("client-service"), settings) as served:
        yield served

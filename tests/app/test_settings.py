"""The one settings class: production refuses weak secrets; .env.example lists everything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings

REPO = Path(__file__).resolve().parents[2]
STRONG = "k1:" + "Zq8-vR2_" * 6
PEPPER = "pepper-" + "mB7xQ2wL" * 5


def _production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "production",
        "jwt_signing_keys": STRONG,
        "api_key_pepper": PEPPER,
        "first_admin_password": "a-long-Admin-passphrase-42",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def test_production_starts_with_strong_secrets() -> None:
    settings = _production()
    assert settings.signing_keys[0][0] == "k1"


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"jwt_signing_keys": ""}, "JWT_SIGNING_KEYS is missing"),
        ({"jwt_signing_keys": "k1:short"}, "is weak"),
        ({"jwt_signing_keys": "k1:changethis" + "x" * 40}, "is weak"),
        ({"jwt_signing_keys": "k1:" + "a" * 64}, "is weak"),
        ({"api_key_pepper": None}, "API_KEY_PEPPER"),
        ({"api_key_pepper": "changeme"}, "API_KEY_PEPPER"),
        ({"first_admin_password": "password"}, "FIRST_ADMIN_PASSWORD"),
        ({"first_admin_password": "admin123"}, "FIRST_ADMIN_PASSWORD"),
    ],
)
def test_production_refuses_missing_or_weak_secrets(override: dict, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        _production(**override)


def test_development_allows_unset_secrets() -> None:
    assert Settings(_env_file=None).jwt_signing_keys == []


def test_signing_keys_need_a_kid() -> None:
    with pytest.raises(ValidationError, match="kid:secret"):
        Settings(_env_file=None, jwt_signing_keys="no-kid-here")


def test_trusted_proxies_must_be_addresses() -> None:
    assert Settings(_env_file=None, trusted_proxies="127.0.0.1,10.0.0.0/8").trusted_proxies == [
        "127.0.0.1",
        "10.0.0.0/8",
    ]
    assert Settings(_env_file=None, trusted_proxies="unix").trusted_proxies == ["unix"]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, trusted_proxies="nginx.example")


def test_env_example_lists_every_setting() -> None:
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert {name.upper() for name in Settings.model_fields} <= listed

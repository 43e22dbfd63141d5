"""Checks on what an admin asks for, applied before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Iterable

from auth.errors import InvalidInput
from auth.passwords import MAX_PASSWORD_LENGTH
from auth.principal import KNOWN_SCOPES
from auth.rate_limits import parse_rate_limit

MAX_USERNAME_LENGTH = 64
USERNAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@-]{{0,{MAX_USERNAME_LENGTH - 1}}}")
MIN_PASSWORD_LENGTH = 8
MAX_KEY_NAME_LENGTH = 100


def known_scopes(scopes: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(scopes)
    unknown = wanted - KNOWN_SCOPES
    if unknown:
        raise InvalidInput(f"unknown scopes: {' '.join(sorted(unknown))}", "scopes")
    return wanted


def username(value: str) -> str:
    if not USERNAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            "a username has 1 to 64 characters: letters, digits and . _ @ -, "
            "starting with a letter or digit",
            "username",
        )
    return value


def password(value: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(value) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            "password",
        )
    return value


def key_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_KEY_NAME_LENGTH:
        raise InvalidInput(f"a key name has 1 to {MAX_KEY_NAME_LENGTH} characters", "name")
    return name


def rate_limit(value: str) -> str:
    """One limit such as ``100/minute``, within the bounds ``parse_rate_limit`` states."""
    return parse_rate_limit(value).text

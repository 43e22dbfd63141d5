"""Checks on what an admin asks for, applied before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Iterable

from limits import parse_many

from auth.errors import InvalidInput
from auth.passwords import MAX_PASSWORD_LENGTH
from auth.principal import KNOWN_SCOPES

MAX_USERNAME_LENGTH = 64
USERNAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@-]{{0,{MAX_USERNAME_LENGTH - 1}}}")
MIN_PASSWORD_LENGTH = 8
MAX_KEY_NAME_LENGTH = 100


def known_scopes(scopes: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(scopes)
    unknown = wanted - KNOWN_SCOPES
    if unknown:
        raise InvalidInput(f"unknown scopes: {' '.join(sorted(unknown))}")
    return wanted


def username(value: str) -> str:
    if not USERNAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            "a username has 1 to 64 characters: letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    return value


def password(value: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(value) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return value


def key_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_KEY_NAME_LENGTH:
        raise InvalidInput(f"a key name has 1 to {MAX_KEY_NAME_LENGTH} characters")
    return name


def rate_limit(value: str) -> str:
    """One ``limits`` string such as ``100/minute`` allowing at least one request."""
    try:
        items = parse_many(value)
    except ValueError as exc:
        raise InvalidInput(f"unreadable rate limit {value!r}") from exc
    if len(items) != 1 or items[0].amount < 1:
        raise InvalidInput("a rate limit is one 'N/period' with N at least 1")
    return value.strip()

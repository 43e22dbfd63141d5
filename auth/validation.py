"""Checks on what an admin asks for, applied before anything is stored."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from auth.errors import InvalidInput, ScopeCeiling
from auth.principal import KNOWN_SCOPES, with_implied
from auth.rate_limits import parse_rate_limit

MAX_USERNAME_LENGTH = 64
USERNAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@-]{{0,{MAX_USERNAME_LENGTH - 1}}}")
MAX_KEY_NAME_LENGTH = 100
UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def within_ceiling(wanted: frozenset[str], granter_scopes: frozenset[str] | None) -> None:
    """No credential grants a scope it does not hold itself (``None``: the operator's shell)."""
    if granter_scopes is None:
        return
    beyond = wanted - with_implied(granter_scopes)
    if beyond:
        raise ScopeCeiling(f"you cannot grant scopes you do not hold: {' '.join(sorted(beyond))}")


def known_scopes(scopes: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(scopes)
    unknown = wanted - KNOWN_SCOPES
    if unknown:
        raise InvalidInput(f"unknown scopes: {' '.join(sorted(unknown))}", "scopes")
    return wanted


def canonical_username(value: str) -> str:
    """One identity per name: NFKC then casefold, so ``RT-ADMIN`` and ``rt-admin`` are one user.

    Applied wherever a username enters (creation, login, admin lookups), so the
    store only ever sees the canonical form.
    """
    return unicodedata.normalize("NFKC", value).casefold()


def username(value: str) -> str:
    """The canonical form of a new username, or ``InvalidInput`` saying what a username is."""
    canonical = canonical_username(value)
    if not USERNAME_PATTERN.fullmatch(canonical):
        raise InvalidInput(
            "a username has 1 to 64 characters: letters, digits and . _ @ -, "
            "starting with a letter or digit (case does not count: Alice is alice)",
            "username",
        )
    return canonical


def printable_name(value: str, field: str, max_length: int) -> str:
    """A display name with no control, format (bidi override, zero width) or separator codes.

    Those make a name look like another in a listing or a log line (U+202E
    reverses what follows it), so they are refused rather than stripped.
    """
    name = value.strip()
    if not name or len(name) > max_length:
        raise InvalidInput(f"a {field} has 1 to {max_length} characters", field)
    if any(unicodedata.category(char) in UNPRINTABLE for char in name):
        raise InvalidInput(
            f"a {field} has no control, formatting or line-separator characters", field
        )
    return name


def key_name(value: str) -> str:
    return printable_name(value, "name", MAX_KEY_NAME_LENGTH)


def rate_limit(value: str) -> str:
    """One limit such as ``100/minute``, within the bounds ``parse_rate_limit`` states."""
    return parse_rate_limit(value).text

"""What a new password must be, after NIST SP 800-63B-4 (§3.1.1.2).

- at least ``min_length`` characters (15 by default for a password that is the
  only factor) and at most ``MAX_PASSWORD_LENGTH``, counted after Unicode
  NFKC normalisation, so every way of typing one character counts once;
- not one of the 30,000 most common passwords of the breach corpora zxcvbn
  ships (``zxcvbn.frequency_lists``: RockYou, Xato and others, maintained with
  zxcvbn), compared case-insensitively;
- not one character repeated, and not the username itself;
- no composition rules (no "one digit, one symbol"): long passphrases are
  the point, and any printable Unicode is welcome.

Each refusal names the rule it broke.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from auth.errors import InvalidInput

DEFAULT_MIN_LENGTH = 15
MAX_PASSWORD_LENGTH = 1024
"""Longer inputs are refused before hashing: argon2's cost grows with the input."""
FIELD = "password"


def normalize(password: str) -> str:
    """NFKC: what is hashed and what is verified, so a password typed two ways is one."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def check_new_password(
    password: str, *, min_length: int = DEFAULT_MIN_LENGTH, username: str | None = None
) -> str:
    """The normalised password, or ``InvalidInput`` naming the rule it breaks."""
    normalized = normalize(password)
    if len(normalized) < min_length:
        raise InvalidInput(f"a password has at least {min_length} characters", FIELD)
    if len(normalized) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_PASSWORD_LENGTH} characters", FIELD)
    folded = normalized.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        raise InvalidInput("that password is one of the most common ones; choose another", FIELD)
    if len(set(normalized)) == 1:
        raise InvalidInput("a password is not one character repeated", FIELD)
    if username is not None and folded == normalize(username).casefold():
        raise InvalidInput("a password is not the username", FIELD)
    return normalized

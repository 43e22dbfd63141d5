"""API-key secrets: their format, checksum, display prefix and stored digest.

A key reads ``hpk_`` + 30 random base62 characters + a 6-character base62
CRC32 of those 30. The fixed prefix lets secret scanners recognise a leaked
key; the checksum lets a typo (or a scanner's guess) be refused before any
store lookup. The store keeps only HMAC-SHA256(pepper, key): a stolen
database without the server's pepper cannot even be used to test guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from collections.abc import Sequence

KEY_PREFIX = "hpk_"
BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 30
"""30 base62 characters: about 178 random bits."""
CHECKSUM_LENGTH = 6
"""62**6 exceeds 2**32, so any CRC32 fits."""
DISPLAY_BODY_CHARACTERS = 4
MIN_PEPPER_LENGTH = 16

_KEY_SHAPE = re.compile(rf"{KEY_PREFIX}[0-9A-Za-z]{{{BODY_LENGTH + CHECKSUM_LENGTH}}}")


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, BASE62_ALPHABET[0])


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate_api_key() -> str:
    body = "".join(secrets.choice(BASE62_ALPHABET) for _ in range(BODY_LENGTH))
    return f"{KEY_PREFIX}{body}{checksum(body)}"


def is_well_formed(key: str) -> bool:
    """True when ``key`` has the right shape and its checksum matches."""
    if not _KEY_SHAPE.fullmatch(key):
        return False
    body = key[len(KEY_PREFIX) : len(KEY_PREFIX) + BODY_LENGTH]
    return hmac.compare_digest(checksum(body), key[-CHECKSUM_LENGTH:])


def display_prefix(key: str) -> str:
    """The first characters of a key, enough to tell keys apart, useless to an attacker."""
    return key[: len(KEY_PREFIX) + DISPLAY_BODY_CHARACTERS]


LEGACY_PEPPER_ID = ""
"""The pepper of digests stored before digests were tagged: ``API_KEY_PEPPER``."""


class ApiKeyDigester:
    """Computes the stored form of a key, ``<pepper id>$<HMAC-SHA256 hex>``, under named peppers.

    Every digest names the pepper it was made with, so the pepper can rotate
    without killing every key (polar's ``kit/crypto`` keeps one pepper; here
    each stored digest is tagged): new keys are digested under the first
    pepper; a key stored under an older one still verifies, and is re-tagged
    under the first on its next use. A digest with no tag was made with the
    legacy ``API_KEY_PEPPER`` (pepper id ``""``).
    """

    def __init__(self, peppers: Sequence[tuple[str, str]] | str) -> None:
        named = [(LEGACY_PEPPER_ID, peppers)] if isinstance(peppers, str) else list(peppers)
        if not named:
            raise ValueError("at least one API-key pepper is needed")
        for pepper_id, pepper in named:
            if len(pepper) < MIN_PEPPER_LENGTH:
                raise ValueError(
                    f"the API-key pepper needs at least {MIN_PEPPER_LENGTH} characters"
                )
            if "$" in pepper_id:
                raise ValueError("a pepper id has no '$'")
        self._peppers = [(pepper_id, pepper.encode()) for pepper_id, pepper in named]

    @staticmethod
    def _tagged(pepper_id: str, pepper: bytes, key: str) -> str:
        mac = hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()
        return f"{pepper_id}${mac}" if pepper_id != LEGACY_PEPPER_ID else mac

    def digest(self, key: str) -> str:
        """The stored form of ``key`` under the current (first) pepper."""
        pepper_id, pepper = self._peppers[0]
        return self._tagged(pepper_id, pepper, key)

    def candidates(self, key: str) -> list[str]:
        """The stored forms ``key`` may have, current pepper first."""
        return [self._tagged(pepper_id, pepper, key) for pepper_id, pepper in self._peppers]

"""API-key secrets: shape, checksum, display prefix, and the digest that is stored."""

from __future__ import annotations

import random
import re
import secrets
import zlib

import pytest

from auth.api_keys import (
    BASE62_ALPHABET,
    ApiKeyDigester,
    checksum,
    display_prefix,
    generate_api_key,
    is_well_formed,
)

SHAPE = re.compile(r"hpk_[0-9A-Za-z]{36}")


def _base62_value(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + BASE62_ALPHABET.index(char)
    return value


def test_format() -> None:
    key = generate_api_key()
    assert SHAPE.fullmatch(key)
    assert is_well_formed(key)


def test_the_last_six_characters_are_the_crc32_of_the_body() -> None:
    key = generate_api_key()
    body, check = key[4:34], key[34:]
    assert _base62_value(check) == zlib.crc32(body.encode())


def test_keys_are_unique() -> None:
    assert len({generate_api_key() for _ in range(200)}) == 200


def test_every_one_character_typo_fails_the_checksum() -> None:
    key = generate_api_key()
    for position in range(4, len(key)):
        for replacement in ("0", "z"):
            if key[position] == replacement:
                continue
            typo = key[:position] + replacement + key[position + 1 :]
            assert not is_well_formed(typo), f"typo at {position} not caught"


def test_adjacent_swaps_fail_the_checksum() -> None:
    key = generate_api_key()
    for position in range(4, len(key) - 1):
        a, b = key[position], key[position + 1]
        if a != b:
            swapped = key[:position] + b + a + key[position + 2 :]
            assert not is_well_formed(swapped)


@pytest.mark.parametrize(
    "candidate",
    ["", "hpk_", "hpk_short", "ghp_" + "a" * 36, "HPK_" + "a" * 36, "hpk_" + "-" * 36],
)
def test_malformed_keys_are_refused(candidate: str) -> None:
    assert not is_well_formed(candidate)


def test_a_key_with_a_trailing_character_is_refused() -> None:
    assert not is_well_formed(generate_api_key() + "x")


def test_display_prefix_is_short_and_a_prefix() -> None:
    key = generate_api_key()
    prefix = display_prefix(key)
    assert key.startswith(prefix)
    assert prefix.startswith("hpk_")
    assert len(prefix) == 8


def test_the_digest_is_not_the_key() -> None:
    key = generate_api_key()
    digester = ApiKeyDigester(secrets.token_hex(32))
    digest = digester.digest(key)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert key not in digest
    assert key[4:34] not in digest
    assert digester.digest(key) == digest


def test_the_digest_depends_on_the_pepper() -> None:
    key = generate_api_key()
    one, other = ApiKeyDigester(secrets.token_hex(32)), ApiKeyDigester(secrets.token_hex(32))
    assert one.digest(key) != other.digest(key)


def test_a_short_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="pepper"):
        ApiKeyDigester("short")


def test_a_short_checksum_is_padded_with_base62_zeros() -> None:
    """About one CRC32 in five is below 62**5 and needs padding; the padding is the digit 0,
    so the checksum stays the plain base62 of the CRC that secret scanners recompute."""
    bodies = ["".join(random.Random(seed).choices(BASE62_ALPHABET, k=30)) for seed in range(60)]
    padded = [body for body in bodies if zlib.crc32(body.encode()) < 62**5]
    assert padded, "no body with a short checksum among the samples"
    for body in bodies:
        assert len(checksum(body)) == 6
        assert _base62_value(checksum(body)) == zlib.crc32(body.encode())
    assert all(checksum(body).startswith("0") for body in padded)


def test_the_digest_covers_the_whole_key_not_its_listed_prefix() -> None:
    """A digest over the display prefix would let anyone who sees a key's listing (its
    prefix) forge a key that matches it: the prefix plus any body with a valid checksum."""
    digester = ApiKeyDigester(secrets.token_hex(32))
    real = generate_api_key()
    body = real[4:8] + "A" * 26
    forged = f"hpk_{body}{checksum(body)}"
    assert is_well_formed(forged)
    assert display_prefix(forged) == display_prefix(real)
    assert digester.digest(forged) != digester.digest(real)
    assert digester.digest(forged) not in digester.candidates(real)


def test_no_pepper_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^at least one API-key pepper is needed$"):
        ApiKeyDigester([])


def test_a_pepper_id_with_the_tag_separator_is_refused() -> None:
    """``$`` separates the pepper id from the digest: an id holding one would be misread."""
    with pytest.raises(ValueError, match=r"^a pepper id has no '\$'$"):
        ApiKeyDigester([("p$2", secrets.token_hex(32))])

"""Properties of the key format over generated keys: no typo of a key is ever well formed.

The checksum exists so that a mistyped or guessed key is refused before any
store lookup. CRC32 detects every error burst of up to 32 bits, so every
one-character change is caught; these tests check that the whole format
(prefix, body, checksum) keeps that promise at every position, for every
character a change could put there.
"""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from auth.api_keys import (
    BASE62_ALPHABET,
    BODY_LENGTH,
    KEY_PREFIX,
    checksum,
    generate_api_key,
    is_well_formed,
)

OTHER_CHARACTERS = string.punctuation + " \t\n\x00é"
"""Characters outside the alphabet a change could also introduce."""


@st.composite
def api_keys(draw: st.DrawFn) -> str:
    """Keys as ``generate_api_key`` makes them, from bodies Hypothesis chooses (and shrinks)."""
    body = draw(st.text(BASE62_ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH))
    return f"{KEY_PREFIX}{body}{checksum(body)}"


def test_generated_keys_are_the_keys_the_service_issues() -> None:
    """The strategy is honest: a key the service issues is one it could have drawn."""
    issued = generate_api_key()
    body = issued[len(KEY_PREFIX) : len(KEY_PREFIX) + BODY_LENGTH]
    assert issued == f"{KEY_PREFIX}{body}{checksum(body)}"


@given(api_keys())
def test_every_generated_key_is_well_formed(key: str) -> None:
    assert is_well_formed(key)


@given(api_keys())
def test_every_one_character_substitution_at_every_position_is_refused(key: str) -> None:
    for position, original in enumerate(key):
        for replacement in BASE62_ALPHABET + OTHER_CHARACTERS:
            if replacement != original:
                typo = key[:position] + replacement + key[position + 1 :]
                assert not is_well_formed(typo), (key, position, replacement)


@given(api_keys(), st.data())
def test_a_dropped_or_an_extra_character_anywhere_is_refused(key: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(key)), label="position")
    extra = data.draw(st.sampled_from(BASE62_ALPHABET + OTHER_CHARACTERS), label="extra")
    assert not is_well_formed(key[:position] + extra + key[position:])
    if position < len(key):
        assert not is_well_formed(key[:position] + key[position + 1 :])


@given(api_keys())
def test_every_swap_of_two_adjacent_different_characters_is_refused(key: str) -> None:
    for position in range(len(key) - 1):
        first, second = key[position], key[position + 1]
        if first != second:
            swapped = key[:position] + second + first + key[position + 2 :]
            assert not is_well_formed(swapped), (key, position)

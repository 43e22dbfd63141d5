"""Properties of the access-token verifier: no change to a valid token is ever accepted.

A token is three base64url segments (header, payload, signature). Whatever is
changed — a bit of the decoded bytes of any segment (re-encoded canonically,
so the change reaches the signature check), one character of the token as
sent (which may also make it non-canonical, or break its structure), or its
end cut off — ``decode`` refuses it. HMAC covers header and payload; the
signature's spelling is unique too (canonical base64url only).
"""

from __future__ import annotations

import base64
import secrets

from hypothesis import given
from hypothesis import strategies as st

from auth.tokens import AccessTokenCodec, InvalidToken

CODEC = AccessTokenCodec(
    [("current", secrets.token_urlsafe(48)), ("previous", secrets.token_urlsafe(48))],
    algorithm="HS256",
    issuer="housing-api",
    audience="housing-api",
    ttl_seconds=900,
)
TOKEN_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
SEGMENTS = ("header", "payload", "signature")


@st.composite
def tokens(draw: st.DrawFn) -> str:
    """Valid tokens for varied subjects, scopes and ids (so every segment's bytes vary)."""
    subject = draw(st.text(min_size=1, max_size=40))
    scopes = draw(st.sets(st.sampled_from(["predict", "admin", "metrics", "introspect"])))
    user_id = draw(st.none() | st.text("abcdef0123456789-", min_size=1, max_size=20))
    return CODEC.issue(subject, scopes, user_id=user_id).token


def refused(token: str) -> bool:
    try:
        CODEC.decode(token)
    except InvalidToken:
        return True
    return False


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@given(tokens())
def test_every_issued_token_verifies(token: str) -> None:
    assert not refused(token)


@given(tokens(), st.sampled_from(SEGMENTS), st.data())
def test_a_flipped_bit_in_any_segment_is_refused(
    token: str, segment: str, data: st.DataObject
) -> None:
    parts = token.split(".")
    index = SEGMENTS.index(segment)
    raw = bytearray(_b64decode(parts[index]))
    byte = data.draw(st.integers(0, len(raw) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    raw[byte] ^= 1 << bit
    parts[index] = _b64encode(bytes(raw))
    assert refused(".".join(parts))


@given(tokens(), st.data())
def test_any_one_character_substitution_is_refused(token: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(
        st.sampled_from(TOKEN_CHARACTERS).filter(lambda char: char != token[position]),
        label="replacement",
    )
    assert refused(token[:position] + replacement + token[position + 1 :])


@given(tokens())
def test_every_spelling_of_the_signature_end_but_its_own_is_refused(token: str) -> None:
    """The last character carries two bits decoding may drop: three substitutions there spell
    the same signature bytes, and each must still be refused."""
    for replacement in TOKEN_CHARACTERS:
        if replacement != token[-1]:
            assert refused(token[:-1] + replacement)


@given(tokens(), st.data())
def test_a_truncated_token_is_refused(token: str, data: st.DataObject) -> None:
    length = data.draw(st.integers(0, len(token) - 1), label="length")
    assert refused(token[:length])
    assert refused(token[len(token) - length :])

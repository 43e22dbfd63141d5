"""Access tokens: what is accepted, and a table of forgeries that must all be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from auth.tokens import ACCESS_JWT_TYP, AccessTokenCodec, InvalidToken

ISSUER = "housing-api"
AUDIENCE = "housing-api"
SECRET = secrets.token_urlsafe(48)
KID = "current"


def codec(keys: list[tuple[str, str]] | None = None, algorithm: str = "HS256") -> AccessTokenCodec:
    return AccessTokenCodec(
        [(KID, SECRET)] if keys is None else keys,
        algorithm=algorithm,
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=900,
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "scope": "predict",
        "iat": now,
        "exp": now + 900,
        "jti": secrets.token_urlsafe(16),
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def forge(
    *,
    secret: str = SECRET,
    algorithm: str = "HS256",
    kid: str | None = KID,
    typ: str | None = ACCESS_JWT_TYP,
    **claim_changes: Any,
) -> str:
    """A token built by hand; with no arguments it is a valid one."""
    headers: dict[str, Any] = {}
    if kid is not None:
        headers["kid"] = kid
    if typ is not None:
        headers["typ"] = typ
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about the weak secrets on purpose here
        return jwt.encode(claims(**claim_changes), secret, algorithm=algorithm, headers=headers)


def alg_none() -> str:
    header = {"alg": "none", "typ": ACCESS_JWT_TYP, "kid": KID}
    return f"{_b64(header)}.{_b64(claims())}."


def empty_secret() -> str:
    """PyJWT refuses to sign with an empty key, so sign by hand."""
    signing_input = f"{_b64({'alg': 'HS256', 'kid': KID, 'typ': ACCESS_JWT_TYP})}.{_b64(claims())}"
    mac = hmac.new(b"", signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def bad_signature() -> str:
    head, body, signature = forge().split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def edited_claims() -> str:
    head, _, signature = forge().split(".")
    return f"{head}.{_b64(claims(scope='predict admin', sub='root'))}.{signature}"


FORGERIES: dict[str, Callable[[], str]] = {
    "alg none": alg_none,
    "bad signature": bad_signature,
    "claims edited, signature kept": edited_claims,
    "expired": lambda: forge(iat=int(time.time()) - 4000, exp=int(time.time()) - 3000),
    "issued in the future": lambda: forge(iat=int(time.time()) + 3600),
    "secret 'secret'": lambda: forge(secret="secret"),
    "secret 'changeme'": lambda: forge(secret="changeme"),
    "secret 'password'": lambda: forge(secret="password"),
    "secret empty": empty_secret,
    "secret = issuer": lambda: forge(secret=ISSUER),
    "wrong audience": lambda: forge(aud="another-api"),
    "audience list": lambda: forge(aud=[AUDIENCE, "another-api"]),
    "wrong issuer": lambda: forge(iss="https://evil.example"),
    "HS512 with the right secret": lambda: forge(algorithm="HS512"),
    "HS384 with the right secret": lambda: forge(algorithm="HS384"),
    "unknown kid": lambda: forge(kid="retired-long-ago"),
    "no kid": lambda: forge(kid=None),
    "not an access token (typ JWT)": lambda: forge(typ="JWT"),
    "no typ": lambda: forge(typ=None),
    "missing jti": lambda: forge(jti=None),
    "missing exp": lambda: forge(exp=None),
    "missing iat": lambda: forge(iat=None),
    "missing sub": lambda: forge(sub=None),
    "missing scope": lambda: forge(scope=None),
    "missing aud": lambda: forge(aud=None),
    "missing iss": lambda: forge(iss=None),
    "empty sub": lambda: forge(sub=""),
    "non-string scope": lambda: forge(scope=["admin"]),
    "non-string jti": lambda: forge(jti=12345),
    "garbage": lambda: "not-a-jwt",
    "empty": lambda: "",
    "dots only": lambda: "..",
}


def test_the_forging_helper_makes_valid_tokens_by_default() -> None:
    """So each forgery below fails for its one change, not for a broken helper."""
    decoded = codec().decode(forge())
    assert decoded.subject == "alice"
    assert decoded.scopes == frozenset({"predict"})


@pytest.mark.parametrize("make", FORGERIES.values(), ids=FORGERIES.keys())
def test_forgeries_are_rejected(make: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        codec().decode(make())


def test_issue_then_decode_round_trip() -> None:
    now = datetime.now(UTC)
    issued = codec().issue("alice", {"predict", "admin"}, now=now)
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "HS256", "kid": KID, "typ": ACCESS_JWT_TYP}
    decoded = codec().decode(issued.token)
    assert decoded == issued.claims
    assert decoded.scopes == frozenset({"predict", "admin"})
    assert decoded.issued_at == now.replace(microsecond=0)
    assert decoded.expires_at - decoded.issued_at == timedelta(seconds=900)
    assert issued.expires_in == 900


def test_every_token_has_its_own_jti() -> None:
    tokens = {codec().issue("alice", {"predict"}).claims.token_id for _ in range(50)}
    assert len(tokens) == 50


def test_payload_carries_every_required_claim() -> None:
    payload = jwt.decode(
        codec().issue("alice", {"predict"}).token, options={"verify_signature": False}
    )
    assert set(payload) == {"iss", "aud", "sub", "scope", "iat", "exp", "jti"}


def test_a_token_for_another_configuration_is_refused() -> None:
    other = AccessTokenCodec(
        [(KID, SECRET)], algorithm="HS256", issuer=ISSUER, audience="admin-ui", ttl_seconds=900
    )
    with pytest.raises(InvalidToken):
        codec().decode(other.issue("alice", {"predict"}).token)


def test_small_clock_skew_is_tolerated() -> None:
    assert codec().decode(forge(iat=int(time.time()) + 5)).subject == "alice"


def test_kid_rotation() -> None:
    old_secret, new_secret = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    before = codec([("2024", old_secret)])
    during = codec([("2025", new_secret), ("2024", old_secret)])
    after = codec([("2025", new_secret)])

    old_token = before.issue("alice", {"predict"}).token
    new_token = during.issue("alice", {"predict"}).token

    assert jwt.get_unverified_header(new_token)["kid"] == "2025"
    assert during.decode(old_token).subject == "alice"
    assert after.decode(new_token).subject == "alice"
    with pytest.raises(InvalidToken):
        after.decode(old_token)


def test_a_kid_cannot_borrow_another_keys_secret() -> None:
    """The kid selects the secret: a token signed with key A but naming key B fails."""
    a, b = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    with pytest.raises(InvalidToken):
        codec([("a", a), ("b", b)]).decode(forge(secret=a, kid="b"))


@pytest.mark.parametrize(
    ("keys", "algorithm"),
    [
        ([], "HS256"),
        ([("k", "s"), ("k", "t")], "HS256"),
        ([("k", "s")], "RS256"),
        ([("", "s")], "HS256"),
    ],
)
def test_bad_configurations_are_refused(keys: list[tuple[str, str]], algorithm: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        codec(keys, algorithm)


def _forge(codec_secret: str, kid: str, **claims: object) -> str:
    import jwt as pyjwt

    return pyjwt.encode(
        dict(claims), codec_secret, algorithm="HS256", headers={"kid": kid, "typ": "at+jwt"}
    )


def test_only_canonical_tokens_and_integer_times_within_the_lifetime_are_accepted() -> None:
    import time as clock

    from auth.tokens import AccessTokenCodec, InvalidToken, is_canonical_jws

    secret = "k" * 40
    codec = AccessTokenCodec(
        [("k1", secret)], algorithm="HS256", issuer="i", audience="a", ttl_seconds=900
    )
    good = codec.issue("alice", {"predict"}).token
    assert codec.decode(good).subject == "alice"
    assert is_canonical_jws(good)
    now = int(clock.time())
    base = {"iss": "i", "aud": "a", "sub": "alice", "scope": "predict", "jti": "j1"}
    refused = [
        good + "=",
        good.replace(".", "..", 1),
        _forge(secret, "k1", **base, iat=str(now), exp=str(now + 60)),
        _forge(secret, "k1", **base, iat=now, exp=float(now + 60)),
        _forge(secret, "k1", **base, iat=now, exp=now + 86_400),  # longer than the TTL
    ]
    for token in refused:
        with pytest.raises(InvalidToken):
            codec.decode(token)
    # The same signature bytes, spelt with different unused bits in the last character.
    head, body, signature = good.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(signature[-1]) ^ 1]
    with pytest.raises(InvalidToken):
        codec.decode(f"{head}.{body}.{signature[:-1]}{twin}")


REFUSALS: dict[str, tuple[Callable[[], str], str]] = {
    "unknown kid": (lambda: forge(kid="retired-long-ago"), "unknown signing key"),
    "no kid": (lambda: forge(kid=None), "unknown signing key"),
    "typ JWT": (lambda: forge(typ="JWT"), "not an access token"),
    "garbage": (lambda: "not-a-jwt", "not a canonical compact JWS"),
    "expired": (
        lambda: forge(iat=int(time.time()) - 4000, exp=int(time.time()) - 3000),
        "expired",
    ),
    "empty sub": (lambda: forge(sub=""), "sub must be a non-empty string"),
    "non-string scope": (lambda: forge(scope=["admin"]), "scope must be a string"),
    "empty jti": (lambda: forge(jti=""), "jti must be a non-empty string"),
    "empty uid": (lambda: forge(uid=""), "uid must be a non-empty string"),
    "numeric uid": (lambda: forge(uid=7), "uid must be a non-empty string"),
    "empty sid": (lambda: forge(sid=""), "sid must be a non-empty string"),
    "numeric sid": (lambda: forge(sid=7), "sid must be a non-empty string"),
    "string times": (
        lambda: forge(iat=str(int(time.time())), exp=str(int(time.time()) + 60)),
        "iat and exp must be integers",
    ),
    "time past year 9999": (lambda: forge(exp=10**12), "iat and exp must be timestamps"),
    "lifetime over the TTL": (
        lambda: forge(exp=int(time.time()) + 86_400),
        "exp - iat exceeds the access-token lifetime",
    ),
}


@pytest.mark.parametrize(("make", "reason"), REFUSALS.values(), ids=REFUSALS.keys())
def test_each_refusal_is_for_its_own_reason(make: Callable[[], str], reason: str) -> None:
    """A forgery refused by some other check would hide a check that no longer works."""
    with pytest.raises(InvalidToken, match=f"^{reason}$" if reason != "expired" else reason):
        codec().decode(make())


def test_the_lifetime_limit_is_the_ttl_plus_the_leeway_exactly() -> None:
    now = int(time.time())
    assert codec().decode(forge(iat=now, exp=now + 900 + 10)).subject == "alice"
    with pytest.raises(InvalidToken, match="lifetime"):
        codec().decode(forge(iat=now, exp=now + 900 + 11))


def test_a_token_round_trips_with_its_user_and_login_and_an_aware_clock() -> None:
    issued = codec().issue("alice", {"predict"}, user_id="u-1", family_id="f-1")
    decoded = codec().decode(issued.token)
    assert decoded == issued.claims
    assert (decoded.user_id, decoded.family_id) == ("u-1", "f-1")
    assert decoded.issued_at.tzinfo is not None
    assert abs(decoded.issued_at.timestamp() - time.time()) < 5


def test_the_jti_carries_128_random_bits() -> None:
    """16 bytes of ``secrets``: 22 base64url characters, unguessable and unique."""
    assert {len(codec().issue("alice", set()).claims.token_id) for _ in range(20)} == {22}


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_a_stronger_hmac_signs_and_verifies_with_exactly_that_algorithm(algorithm: str) -> None:
    strong = codec(algorithm=algorithm)
    token = strong.issue("alice", {"predict"}).token
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    assert strong.decode(token).subject == "alice"
    with pytest.raises(InvalidToken):
        strong.decode(forge())  # HS256 with the same key and kid


def test_signing_key_objects_and_pairs_are_both_accepted() -> None:
    from auth.tokens import SigningKey

    mixed = codec([SigningKey("new", SECRET), ("old", "o" * 40)])  # type: ignore[list-item]
    assert jwt.get_unverified_header(mixed.issue("alice", set()).token)["kid"] == "new"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: codec([]), "^at least one signing key is needed$"),
        (lambda: codec([("k", "s"), ("k", "t")]), "^signing key ids must be unique$"),
        (lambda: codec([("k", "s")], "RS256"), r"^algorithm must be one of \['HS256'"),
        (lambda: codec([("", "s")]), "^a signing key needs a non-empty kid and secret$"),
        (lambda: codec([("k", "")]), "^a signing key needs a non-empty kid and secret$"),
        (
            lambda: AccessTokenCodec(
                [(KID, SECRET)], algorithm="HS256", issuer="i", audience="a", ttl_seconds=0
            ),
            "^ttl_seconds must be positive$",
        ),
    ],
)
def test_each_bad_configuration_says_what_is_wrong(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_a_one_second_lifetime_is_a_lifetime() -> None:
    short = AccessTokenCodec(
        [(KID, SECRET)], algorithm="HS256", issuer=ISSUER, audience=AUDIENCE, ttl_seconds=1
    )
    assert short.issue("alice", set()).expires_in == 1


@pytest.mark.parametrize(
    ("token", "canonical"),
    [
        ("eyJh.eyJz.c2ln", True),
        ("abc.abc.abX", False),  # X carries bits the decoder drops: not the one spelling
        ("abc.abc.abA", True),
        ("QUIX.QUIX.QUIX", True),  # ends in X, which only "=" may be stripped from
        ("abc.abc", False),
        ("abc.abc.abc.abc", False),
        ("abc..abc", False),
        ("abc.abc.ab=", False),
        ("a.abcd.abcd", False),  # one character is no base64 at all
        ("abc.abc.ab+", False),  # standard, not url-safe, alphabet
    ],
)
def test_only_the_one_canonical_spelling_of_a_jws_passes(token: str, canonical: bool) -> None:
    from auth.tokens import is_canonical_jws

    assert is_canonical_jws(token) is canonical

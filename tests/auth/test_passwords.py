"""Password hashing: argon2id, salted, verified, and the dummy verify's real cost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from auth.passwords import MAX_PASSWORD_LENGTH, PasswordHasher
from tests.auth.conftest import cheap_hasher


def test_hash_is_argon2id_with_the_given_parameters() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1)
    hashed = hasher.hash_password("a long enough password")
    assert hashed.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    assert "a long enough password" not in hashed


def test_production_defaults_are_rfc_9106_low_memory() -> None:
    hashed = PasswordHasher().hash_password("a long enough password")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_verify() -> None:
    hasher = cheap_hasher()
    hashed = hasher.hash_password("right password")
    assert hasher.verify_password("right password", hashed) is True
    assert hasher.verify_password("wrong password", hashed) is False
    assert hasher.verify_password("", hashed) is False


def test_every_hash_is_salted() -> None:
    hasher = cheap_hasher()
    assert hasher.hash_password("same") != hasher.hash_password("same")


def test_an_unreadable_stored_hash_fails_closed() -> None:
    assert cheap_hasher().verify_password("anything", "not-a-hash") is False


def test_absurd_passwords_are_refused_before_hashing() -> None:
    hasher = cheap_hasher()
    with pytest.raises(ValueError, match="password"):
        hasher.hash_password("x" * (MAX_PASSWORD_LENGTH + 1))
    with pytest.raises(ValueError, match="password"):
        hasher.hash_password("")
    assert (
        hasher.verify_password("x" * (MAX_PASSWORD_LENGTH + 1), hasher.hash_password("x")) is False
    )


def test_a_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = cheap_hasher().hash_password("pw")
    stronger = PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert stronger.needs_rehash(weak) is True
    assert stronger.needs_rehash(stronger.hash_password("pw")) is False


def test_the_dummy_verify_costs_what_a_real_verify_costs() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost_kib=8 * 1024, parallelism=1)
    real_hash = hasher.hash_password("the real password")

    def median_seconds(action: Callable[[], object]) -> float:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            action()
            samples.append(time.perf_counter() - start)
        return sorted(samples)[2]

    real = median_seconds(lambda: hasher.verify_password("a wrong guess", real_hash))
    dummy = median_seconds(lambda: hasher.dummy_verify("a wrong guess"))
    assert 0.25 < dummy / real < 4.0

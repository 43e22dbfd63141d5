"""Password hashing with argon2id through passlib's ``CryptContext``.

The hasher is a small object rather than module functions so that tests can
build one with cheap argon2 parameters while production keeps the defaults
(RFC 9106's low-memory profile: 3 passes over 64 MiB, 4 lanes).
"""

from __future__ import annotations

import secrets

from passlib.context import CryptContext

from auth.password_policy import MAX_PASSWORD_LENGTH, normalize

DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_COST_KIB = 64 * 1024
DEFAULT_PARALLELISM = 4


class PasswordHasher:
    """Hashes and verifies passwords; every call is CPU-bound, run it off the event loop."""

    def __init__(
        self,
        *,
        time_cost: int = DEFAULT_TIME_COST,
        memory_cost_kib: int = DEFAULT_MEMORY_COST_KIB,
        parallelism: int = DEFAULT_PARALLELISM,
    ) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__rounds=time_cost,
            argon2__memory_cost=memory_cost_kib,
            argon2__parallelism=parallelism,
        )
        # A hash of a password nobody knows: verifying against it costs what a
        # real verification costs, so an unknown username takes as long as a known one.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(24))

    def hash_password(self, password: str) -> str:
        password = normalize(password)
        if not password or len(password) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"a password must have 1 to {MAX_PASSWORD_LENGTH} characters")
        return str(self._context.hash(password))

    def verify_password(self, password: str, password_hash: str) -> bool:
        """Never raises, whatever the input: an over-long password costs one dummy verification.

        passlib refuses inputs over 4,096 characters with ``PasswordSizeError``;
        uncaught, that was a 500 in 20 ms for an unknown user against a 400
        after 0.5 s for a known one: an oracle for which usernames exist.
        """
        password = normalize(password)
        if not password or len(password) > MAX_PASSWORD_LENGTH:
            self.dummy_verify(password)
            return False
        try:
            return bool(self._context.verify(password, password_hash))
        except ValueError:
            # An unreadable stored hash fails closed, at the usual cost.
            self.dummy_verify(password)
            return False

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verification and learn nothing (any input, never raises)."""
        self._context.verify(normalize(password)[:MAX_PASSWORD_LENGTH] or "-", self._dummy_hash)

    def needs_rehash(self, password_hash: str) -> bool:
        return bool(self._context.needs_update(password_hash))

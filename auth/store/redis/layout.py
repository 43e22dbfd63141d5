"""The Redis key layout, every name under one configurable prefix (default ``hapi:``).

=============================  ======  ==============================================
key                            type    holds
=============================  ======  ==============================================
``users``                      set     every username
``user:{username}``            hash    user_id, password_hash, scopes, created_at
``user-id:{user_id}``          string  the username of that user instance, while it exists
``user-families:{user_id}``    zset    the user's refresh families, scored by expiry
``user-keys:{user_id}``        set     ids of the API keys the user owns
``keys``                       set     every API-key id
``key:{id}``                   hash    the key's record (its secret only as a digest)
``key-digest:{digest}``        string  the id of the key with that digest
``refresh:{digest}``           hash    family_id, user_id, username, scopes, expires_at, spent
``family:{family_id}``         hash    user_id, revoked, expires_at, ends_at
``revoked-jti:{jti}``          string  present until the revoked token would expire
``audit``                      list    JSON audit events, newest first, capped
``changes``                    pubsub  JSON lists of changed cache entries (``changes``)
=============================  ======  ==============================================

Times are microseconds since the epoch unless the field says ``_ms``. Keys
that can expire carry a TTL, so nothing outlives its use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedisKeys:
    prefix: str

    @property
    def users(self) -> str:
        return f"{self.prefix}users"

    def user(self, username: str) -> str:
        return f"{self.prefix}user:{username}"

    def user_instance(self, user_id: str) -> str:
        return f"{self.prefix}user-id:{user_id}"

    def user_families(self, user_id: str) -> str:
        return f"{self.prefix}user-families:{user_id}"

    def user_keys(self, user_id: str) -> str:
        return f"{self.prefix}user-keys:{user_id}"

    @property
    def keys(self) -> str:
        return f"{self.prefix}keys"

    def key(self, key_id: str) -> str:
        return f"{self.prefix}key:{key_id}"

    def digest_index(self, digest: str) -> str:
        return f"{self.prefix}key-digest:{digest}"

    def refresh(self, digest: str) -> str:
        return f"{self.prefix}refresh:{digest}"

    def family(self, family_id: str) -> str:
        return f"{self.prefix}family:{family_id}"

    def revoked_jti(self, jti: str) -> str:
        return f"{self.prefix}revoked-jti:{jti}"

    @property
    def audit(self) -> str:
        return f"{self.prefix}audit"

    @property
    def changes(self) -> str:
        """A pub/sub channel, not a key (a Redis ACL names it with ``&``, not ``~``)."""
        return f"{self.prefix}changes"

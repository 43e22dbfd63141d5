"""The first admin: without one, nobody could create anybody."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from auth.context import AuthContext
from auth.principal import SCOPE_ADMIN, SCOPE_PREDICT
from auth.store.base import AlreadyExists
from auth.validation import canonical_username

BOOTSTRAP_ACTOR = "bootstrap"


@dataclass(frozen=True, slots=True)
class FirstAdminOutcome:
    created: bool
    """This call created the admin."""
    ignored: str | None = None
    """Why the configured admin is not what exists, since users already did; ``None`` when
    it was created, or exists as configured (made by an earlier start, or by a worker
    starting at the same moment)."""


async def ensure_first_admin(
    context: AuthContext, username: str, password: str
) -> FirstAdminOutcome:
    """Create ``username`` with scopes ``admin predict`` when no user exists at all.

    Idempotent, and safe when several workers start at once: the store lets
    only one create succeed. Otherwise it says why the setting changed
    nothing, if the admin it names is not there as named: an operator who set
    FIRST_ADMIN_* after losing every admin, or a new FIRST_ADMIN_PASSWORD,
    would otherwise be ignored without a word.
    """
    if await context.users.count() == 0:
        try:
            await context.users.create(username, password, {SCOPE_ADMIN, SCOPE_PREDICT})
        except AlreadyExists:
            pass  # another worker starting at the same moment made it
        else:
            await context.audit.record(BOOTSTRAP_ACTOR, "user.create", username)
            return FirstAdminOutcome(created=True)
    return FirstAdminOutcome(created=False, ignored=await _why_ignored(context, username, password))


async def _why_ignored(context: AuthContext, username: str, password: str) -> str | None:
    """One argon2 verification (about 80 ms) per start when the named admin exists."""
    name = canonical_username(username)
    user = await context.users.get(name)
    if user is None:
        return f"users already exist and none is named {name!r}"
    if SCOPE_ADMIN not in user.scopes:
        return f"{name!r} exists without the admin scope"
    matches = await asyncio.to_thread(
        context.passwords.verify_password, password, user.password_hash
    )
    if not matches:
        return f"{name!r} exists with another password, which FIRST_ADMIN_PASSWORD never changes"
    return None

"""The first admin: without one, nobody could create anybody."""

from __future__ import annotations

from auth.context import AuthContext
from auth.principal import SCOPE_ADMIN, SCOPE_PREDICT
from auth.store.base import AlreadyExists

BOOTSTRAP_ACTOR = "bootstrap"


async def ensure_first_admin(context: AuthContext, username: str, password: str) -> bool:
    """Create ``username`` with scopes ``admin predict`` when no user exists at all.

    Idempotent, and safe when several workers start at once: the store lets
    only one create succeed. ``True`` when this call created the admin.
    """
    if await context.users.count() > 0:
        return False
    try:
        await context.users.create(username, password, {SCOPE_ADMIN, SCOPE_PREDICT})
    except AlreadyExists:
        return False
    await context.audit.record(BOOTSTRAP_ACTOR, "user.create", username)
    return True

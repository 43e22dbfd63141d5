"""/admin/*: keys, users, audit. Every route needs the ``admin`` scope and is rate limited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.admin.schemas import (
    AuditOut,
    KeyCreate,
    KeyCreated,
    KeyOut,
    KeyUpdate,
    PasswordReset,
    UserCreate,
    UserOut,
)
from app.deps import Admin, AuthDep, RequireAdmin
from app.guard import GuardedRoute
from app.responses import PROTECTED, errors
from auth.key_service import IssuedApiKey

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""On answers that carry a secret: no cache (browser, proxy) may keep it."""


router = APIRouter(prefix="/admin", tags=["admin"], route_class=GuardedRoute, responses=PROTECTED)


def _created(issued: IssuedApiKey, response: Response) -> KeyCreated:
    response.headers.update(NO_STORE)
    return KeyCreated(**KeyOut.model_validate(issued.record).model_dump(), key=issued.secret)


@router.post("/keys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
async def create_key(body: KeyCreate, admin: Admin, response: Response) -> KeyCreated:
    return _created(await admin.create_key(body), response)


@router.get("/keys", summary="List API keys (never a secret)")
async def list_keys(auth: AuthDep, _: RequireAdmin) -> list[KeyOut]:
    return [KeyOut.model_validate(record) for record in await auth.keys.list()]


@router.get("/keys/{key_id}", summary="One API key", responses=errors(404))
async def get_key(key_id: str, admin: Admin) -> KeyOut:
    return KeyOut.model_validate(await admin.get_key(key_id))


@router.delete(
    "/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a key",
    responses=errors(404),
)
async def revoke_key(key_id: str, admin: Admin) -> Response:
    await admin.revoke_key(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/keys/{key_id}",
    summary="Rename or re-limit a key (same secret)",
    responses=errors(404),
)
async def update_key(key_id: str, body: KeyUpdate, admin: Admin) -> KeyOut:
    return KeyOut.model_validate(await admin.update_key(key_id, body))


@router.post(
    "/keys/{key_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    summary="New secret, same key",
    responses=errors(404, 409),
)
async def rotate_key(key_id: str, admin: Admin, response: Response) -> KeyCreated:
    return _created(await admin.rotate_key(key_id), response)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses=errors(409),
)
async def create_user(body: UserCreate, admin: Admin) -> UserOut:
    return UserOut.model_validate(await admin.create_user(body))


@router.get("/users", summary="List users")
async def list_users(auth: AuthDep, _: RequireAdmin) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in await auth.users.list()]


@router.delete(
    "/users/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user",
    responses=errors(404, 409),
)
async def delete_user(username: str, admin: Admin) -> Response:
    await admin.delete_user(username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users/{username}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a user's password; every login of theirs ends",
    responses=errors(400, 404),
)
async def reset_password(username: str, body: PasswordReset, admin: Admin) -> Response:
    await admin.reset_password(username, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit", summary="Admin actions, newest first")
async def audit(
    auth: AuthDep, _: RequireAdmin, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditOut]:
    return [AuditOut.model_validate(event) for event in await auth.audit.recent(limit)]

"""Admin actions: each one does its work through ``auth`` and leaves an audit line."""

from __future__ import annotations

from dataclasses import dataclass

from app.admin.schemas import KeyCreate, KeyUpdate, PasswordReset, UserCreate
from app.errors import ApiError, field_error
from auth.context import AuthContext
from auth.dependencies import challenge
from auth.errors import InvalidInput, ScopeCeiling
from auth.key_service import IssuedApiKey
from auth.principal import Principal
from auth.store.base import AlreadyExists, ApiKeyRecord, LastAdmin, UnknownUser, UserRecord
from auth.validation import canonical_username


@dataclass(frozen=True, slots=True)
class Actor:
    """The admin acting, and from where."""

    principal: Principal
    client_ip: str

    @property
    def name(self) -> str:
        return f"{self.principal.kind}:{self.principal.subject}"


def unprocessable(exc: InvalidInput) -> ApiError:
    """The same list-shaped 422 a schema refusal gets (the OpenAPI document declares one)."""
    return field_error(exc.field or "body", str(exc))


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


class AdminService:
    def __init__(self, auth: AuthContext, actor: Actor, default_rate_limit: str) -> None:
        self._auth = auth
        self._actor = actor
        self._default_rate_limit = default_rate_limit

    async def _audit(self, action: str, target: str) -> None:
        await self._auth.audit.record(self._actor.name, action, target, self._actor.client_ip)

    async def create_key(self, body: KeyCreate) -> IssuedApiKey:
        try:
            issued = await self._auth.keys.create(
                body.name,
                body.scopes,
                body.rate_limit or self._default_rate_limit,
                expires_in_days=body.expires_in_days,
                created_by=self._actor.name,
                owner_id=self._actor.principal.user_id,
                granter_scopes=self._actor.principal.scopes,
            )
        except InvalidInput as exc:
            raise unprocessable(exc) from None
        except ScopeCeiling as exc:
            raise ApiError(403, str(exc)) from None
        except UnknownUser:  # the acting user was deleted during this request
            raise ApiError(
                401,
                "Invalid, expired or revoked credentials",
                {"WWW-Authenticate": challenge("invalid_token")},
            ) from None
        await self._audit("key.create", issued.record.id)
        return issued

    async def get_key(self, key_id: str) -> ApiKeyRecord:
        record = await self._auth.keys.get(key_id)
        if record is None:
            raise not_found("key")
        return record

    async def revoke_key(self, key_id: str) -> None:
        if not await self._auth.keys.revoke(key_id):
            await self.get_key(key_id)  # 404 when unknown; revoking twice is a no-op
            return
        await self._audit("key.revoke", key_id)

    async def update_key(self, key_id: str, body: KeyUpdate) -> ApiKeyRecord:
        try:
            record = await self._auth.keys.update(
                key_id, name=body.name, rate_limit=body.rate_limit
            )
        except InvalidInput as exc:
            raise unprocessable(exc) from None
        if record is None:
            raise not_found("key")
        await self._audit("key.update", key_id)
        return record

    async def rotate_key(self, key_id: str) -> IssuedApiKey:
        issued = await self._auth.keys.rotate(key_id)
        if issued is None:
            record = await self.get_key(key_id)
            raise ApiError(409, f"key {record.id} is revoked; create a new one")
        await self._audit("key.rotate", key_id)
        return issued

    async def create_user(self, body: UserCreate) -> UserRecord:
        try:
            user = await self._auth.users.create(
                body.username,
                body.password,
                body.scopes,
                granter_scopes=self._actor.principal.scopes,
            )
        except InvalidInput as exc:
            raise unprocessable(exc) from None
        except ScopeCeiling as exc:
            raise ApiError(403, str(exc)) from None
        except AlreadyExists:
            raise ApiError(409, "username taken") from None
        await self._audit("user.create", user.username)
        return user

    async def reset_password(self, username: str, body: PasswordReset) -> None:
        """Every login of the user ends (keys it owns are separate credentials and stay)."""
        try:
            user = await self._auth.users.set_password(username, body.new_password)
        except InvalidInput as exc:
            raise ApiError(400, str(exc)) from None
        if user is None:
            raise not_found("user")
        await self._audit("user.password_reset", user.username)

    async def delete_user(self, username: str) -> None:
        try:
            deleted = await self._auth.users.delete(canonical_username(username))
        except LastAdmin:
            raise ApiError(
                409, f"{username} is the last admin: give another user the admin scope first"
            ) from None
        if not deleted:
            raise not_found("user")
        await self._audit("user.delete", username)

"""A user's own account: changing their password, guarded like a login.

A wrong current password counts against the same login throttle as
``/token`` (the client address and username pair, the username, the
address), checked before the password is verified and inside one of the
throttle's slots, so this endpoint is no side door for guessing: a client
that has used its budget here is refused at ``/token`` too, and the other
way round.
"""

from __future__ import annotations

import logging

from app.errors import ApiError
from app.ratelimit.headers import rate_limit_headers
from app.ratelimit.throttle import LOGIN_POLICY, LoginThrottle
from auth.context import AuthContext
from auth.errors import InvalidInput, WrongPassword
from auth.principal import Principal

logger = logging.getLogger(__name__)

WRONG_CURRENT_MESSAGE = "current_password is wrong"


class AccountService:
    def __init__(
        self, auth: AuthContext, throttle: LoginThrottle, caller: Principal, client_ip: str
    ) -> None:
        self._auth = auth
        self._throttle = throttle
        self._caller = caller
        self._client_ip = client_ip

    async def change_password(self, current: str, new: str) -> None:
        """Every login of the caller ends but the one making the change (its ``sid``).

        That login's access and refresh tokens keep working: the user is
        using it, and ending it would log them out for changing their password.
        """
        username = self._caller.subject
        async with self._throttle.attempt(self._client_ip, username) as decision:
            if not decision.allowed:
                raise ApiError(
                    429,
                    f"too many failed attempts; retry in {decision.retry_after} s",
                    rate_limit_headers(decision, LOGIN_POLICY),
                )
            try:
                await self._auth.users.change_own_password(
                    username, current, new, keep_family=self._caller.family_id
                )
            except WrongPassword:
                await self._throttle.record_failure(self._client_ip, username)
                raise ApiError(400, WRONG_CURRENT_MESSAGE) from None
            except InvalidInput as exc:
                raise ApiError(400, f"new_password refused: {exc}") from None
        logger.info(
            "password changed; the user's other logins ended",
            extra={"fields": {"username": username, "client_ip": self._client_ip}},
        )

"""``POST /account/password``: a user changes their own password.

Only the user's own access token may: an API key is not a login. A wrong
current password counts against the same login throttle as ``/token``
(per address and username), so this is no side door for guessing; the
caller's own login stays, every other one ends.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.account.schemas import PasswordChange
from app.client_ip import client_ip
from app.deps import AuthDep, RequireUserToken, Throttle
from app.errors import ApiError
from app.guard import GuardedRoute
from app.ratelimit.headers import rate_limit_headers
from app.ratelimit.throttle import LOGIN_POLICY
from app.responses import PROTECTED, errors
from auth.errors import InvalidInput, WrongPassword

router = APIRouter(
    prefix="/account", tags=["account"], route_class=GuardedRoute, responses=PROTECTED
)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password; your other logins end",
    responses=errors(400),
)
async def change_password(
    body: PasswordChange,
    request: Request,
    caller: RequireUserToken,
    auth: AuthDep,
    throttle: Throttle,
) -> Response:
    ip, username = client_ip(request), caller.subject
    async with throttle.attempt(ip, username) as decision:
        if not decision.allowed:
            raise ApiError(
                429,
                f"too many failed attempts; retry in {decision.retry_after} s",
                rate_limit_headers(decision, LOGIN_POLICY),
            )
        try:
            await auth.users.change_own_password(
                username,
                body.current_password,
                body.new_password,
                keep_family=caller.family_id,
            )
        except WrongPassword:
            await throttle.record_failure(ip, username)
            raise ApiError(400, "current_password is wrong") from None
        except InvalidInput as exc:
            raise ApiError(400, f"new_password refused: {exc}") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)

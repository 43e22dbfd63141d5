"""``POST /account/password``: a user changes their own password.

Only the user's own access token may: an API key is not a login (403). The
caller's own login (its refresh family, and every access token issued in it,
the one making the call included) keeps working; every other login of the
user ends at once, on every worker. Guessing is throttled as at ``/token``
(``app.account.service``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.account.schemas import PasswordChange
from app.deps import Account
from app.guard import GuardedRoute
from app.responses import PROTECTED, errors

router = APIRouter(
    prefix="/account", tags=["account"], route_class=GuardedRoute, responses=PROTECTED
)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password; this login stays, your other logins end",
    responses=errors(400),
)
async def change_password(body: PasswordChange, account: Account) -> Response:
    await account.change_password(body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""``housing-api create-user`` and ``create-key``: admin work from the shell.

They act on the store of the service their ``STATE_DIR`` belongs to (SQLite
under it, ``REDIS_URL``, or the Redis of a ``make stack`` running on it; see
``app.local_stack``), through the same services as the HTTP API, and leave an
audit line. Passwords
are read from a prompt or standard input, never from the command line (which
other users of the machine can read in the process list).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from contextlib import AsyncExitStack

from app.backends import open_auth
from app.local_stack import StackStoreUnknown, settings_for_shell
from auth.errors import InvalidInput
from auth.store.base import AlreadyExists

CLI_ACTOR = "cli"


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise SystemExit("housing-api: no terminal to ask for the password; use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != first:
        raise SystemExit("passwords differ")
    return first


async def _create_user(username: str, password: str, scopes: list[str]) -> str:
    async with AsyncExitStack() as stack:
        auth = await open_auth(settings_for_shell(), stack)
        user = await auth.users.create(username, password, scopes)
        await auth.audit.record(CLI_ACTOR, "user.create", user.username)
        return f"created user {user.username} with scopes {' '.join(sorted(user.scopes))}"


async def _create_key(
    name: str, scopes: list[str], rate_limit: str | None, expires_in_days: int | None
) -> str:
    async with AsyncExitStack() as stack:
        settings = settings_for_shell()
        auth = await open_auth(settings, stack)
        issued = await auth.keys.create(
            name,
            scopes,
            rate_limit or settings.default_rate_limit,
            expires_in_days=expires_in_days,
            created_by=CLI_ACTOR,
        )
        await auth.audit.record(CLI_ACTOR, "key.create", issued.record.id)
        return issued.secret + "\n" + f"id {issued.record.id}; shown once, store it now"


def create_user(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    return _report(_create_user(args.username, password, args.scopes))


def create_key(args: argparse.Namespace) -> int:
    return _report(_create_key(args.name, args.scopes, args.rate_limit, args.expires_in_days))


def _report(work: object) -> int:
    try:
        print(asyncio.run(work))  # type: ignore[arg-type]
    except InvalidInput as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except AlreadyExists:
        print("refused: that username is taken", file=sys.stderr)
        return 2
    except StackStoreUnknown as exc:
        print(f"housing-api: refused: {exc}", file=sys.stderr)
        return 2
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = commands.add_parser("create-user", help="create a user (password from a prompt)")
    user.add_argument("username")
    user.add_argument(
        "--scopes", nargs="+", default=["predict"], choices=["predict", "admin"], metavar="SCOPE"
    )
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(handler=create_user)

    key = commands.add_parser("create-key", help="create an API key (printed once)")
    key.add_argument("name")
    key.add_argument(
        "--scopes", nargs="+", default=["predict"], choices=["predict", "admin"], metavar="SCOPE"
    )
    key.add_argument("--rate-limit", help="e.g. 100/minute (default: DEFAULT_RATE_LIMIT)")
    key.add_argument("--expires-in-days", type=int)
    key.set_defaults(handler=create_key)

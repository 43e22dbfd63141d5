"""How both adapters write times and scope sets, and the one rule they share on token age."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from auth.store.base import RefreshTokenRecord

MICROS = 1_000_000


def to_micros(moment: datetime) -> int:
    """Whole microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def from_micros(value: int | str | bytes) -> datetime:
    micros = int(value)
    seconds, rest = divmod(micros, MICROS)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)


def optional_micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def optional_datetime(value: int | str | bytes | None) -> datetime | None:
    return None if value is None or value == "" or value == b"" else from_micros(value)


def join_scopes(scopes: Iterable[str]) -> str:
    return " ".join(sorted(set(scopes)))


def split_scopes(value: str) -> frozenset[str]:
    return frozenset(value.split())


def refresh_record(
    digest: str,
    family_id: str,
    user_id: str,
    username: str,
    scopes: str,
    expires_at_us: int | str | bytes,
    family_ends_at_us: int | str | bytes,
) -> RefreshTokenRecord:
    """A refresh token as both adapters store it (scopes joined, times in microseconds)."""
    return RefreshTokenRecord(
        digest=digest,
        family_id=family_id,
        user_id=user_id,
        username=username,
        scopes=split_scopes(scopes),
        expires_at=from_micros(expires_at_us),
        family_ends_at=from_micros(family_ends_at_us),
    )

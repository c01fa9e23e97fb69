"""Single-use, short-lived secrets: emailed links and the provider sign-in handoff.

Only a SHA-256 of each is stored. Claiming one is one conditional UPDATE, so of two
requests racing with the same link exactly one wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.auth.tokens import hash_secret, new_secret
from jacameno.api.db.models import OneTimeToken
from jacameno.api.errors import ApiError


class Purpose(StrEnum):
    VERIFY = "verify"
    RESET = "reset"
    #: Link a provider to the account its email belongs to (proves control of the address).
    LINK = "link"
    #: Hands a provider sign-in from the server's redirect to the web client.
    HANDOFF = "handoff"


class LinkInvalidError(ApiError):
    """The link or code is unknown, used, expired, or for an address the account left."""

    status = 400
    code = "invalid_link"


async def issue(
    session: AsyncSession,
    user_id: str,
    purpose: Purpose,
    ttl_s: int,
    *,
    email: str | None = None,
    payload: dict[str, Any] | None = None,
    supersede: bool = False,
) -> str:
    """A new token; ``supersede`` retires the user's unused ones of ``purpose`` first."""
    now = datetime.now(UTC)
    if supersede:
        await session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == purpose.value,
                OneTimeToken.used_at.is_(None),
            )
            .values(used_at=now)
        )
    secret = new_secret()
    session.add(
        OneTimeToken(
            user_id=user_id,
            purpose=purpose.value,
            token_hash=hash_secret(secret),
            email=email,
            payload=payload or {},
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )
    await session.flush()
    return secret


async def claim(session: AsyncSession, secret: str, purpose: Purpose) -> OneTimeToken:
    """The token of ``secret``, marked used; :class:`LinkInvalidError` if it cannot be."""
    what = "code" if purpose is Purpose.HANDOFF else "link"
    row = (
        await session.execute(
            select(OneTimeToken).where(
                OneTimeToken.token_hash == hash_secret(secret),
                OneTimeToken.purpose == purpose.value,
            )
        )
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    if row is None:
        raise LinkInvalidError(f"this {what} is not valid")
    if row.used_at is not None:
        raise LinkInvalidError(f"this {what} was already used or replaced by a newer one")
    if row.expires_at <= now:
        raise LinkInvalidError(f"this {what} has expired; ask for a new one")
    claimed = await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkInvalidError(f"this {what} was already used")
    return row

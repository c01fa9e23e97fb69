"""Signed-in sessions: issued, rotated, listed with device and place, and ended.

A session is a refresh-token family (:mod:`api.routes.auth`); its `AuthSession` row
keeps how it signed in, the device (from the User-Agent) and the address it was last
used from. Ending one revokes the family and its access tokens and closes its open
collaboration sockets, in every process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.auth.tokens import hash_secret, new_secret
from jacameno.api.db.models import AuthSession, RefreshToken, User, new_id
from jacameno.api.schemas import AuthOut, UserOut
from jacameno.api.services import AppServices

#: (pattern, name) in the order they are tried: Edge and Opera also say "Chrome".
BROWSERS = (
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrome/|CriOS/|Chromium/|HeadlessChrome/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"^python-httpx/", "Python (httpx)"),
    (r"^python-requests/", "Python (requests)"),
    (r"^curl/", "curl"),
    (r"^node|^undici", "Node.js"),
)
SYSTEMS = (
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Android", "Android"),
    (r"CrOS", "ChromeOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux|X11", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """A person's name for a User-Agent: "Chrome on Linux", "curl", "Unknown device"."""
    browser = next((name for pattern, name in BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for pattern, name in SYSTEMS if re.search(pattern, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


async def issue_session(
    services: AppServices,
    session: AsyncSession,
    user: User,
    *,
    method: str,
    ip: str | None,
    agent: str,
    family_id: str | None = None,
) -> AuthOut:
    """New tokens: a new session (``family_id`` None) or the next of a rotation."""
    now = datetime.now(UTC)
    family = family_id or new_id()
    refresh = new_secret()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family,
            token_hash=hash_secret(refresh),
            expires_at=now + timedelta(seconds=services.settings.refresh_token_ttl_s),
        )
    )
    row = await session.get(AuthSession, family) if family_id else None
    if row is None:
        session.add(
            AuthSession(
                id=family,
                user_id=user.id,
                method=method,
                user_agent=agent[:400],
                ip=ip,
                created_at=now,
                last_used_at=now,
            )
        )
    else:
        row.last_used_at, row.ip, row.user_agent = now, ip, agent[:400]
    access, _claims = services.tokens.issue(user.id, family)
    return AuthOut(
        user=UserOut.model_validate(user),
        access_token=access,
        refresh_token=refresh,
        expires_in=services.tokens.ttl_s,
    )


async def revoke_families(session: AsyncSession, families: Iterable[str]) -> None:
    """Revoke the refresh tokens of ``families`` and mark their sessions ended."""
    families = list(families)
    if not families:
        return
    now = datetime.now(UTC)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id.in_(families), AuthSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def live_families(
    session: AsyncSession, user_id: str, *, keep: str | None = None
) -> list[str]:
    """The families of ``user_id`` with a refresh token still usable (but ``keep``)."""
    rows = await session.execute(
        select(RefreshToken.family_id)
        .where(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > datetime.now(UTC),
        )
        .distinct()
    )
    return [family for family in rows.scalars() if family != keep]


async def announce_ended(services: AppServices, families: Iterable[str]) -> None:
    """After the commit: the families' access tokens stop working and their sockets close."""
    families = tuple(families)
    for family in families:
        await services.revoked.revoke(family, ttl_s=services.tokens.ttl_s)
    if families:
        services.live.session_ended(token_ids=(), family_ids=families)


async def end_all_sessions(
    services: AppServices, session: AsyncSession, user_id: str, *, keep: str | None = None
) -> list[str]:
    """Revoke every session of ``user_id`` (but ``keep``); call :func:`announce_ended`
    with the result once committed."""
    families = await live_families(session, user_id, keep=keep)
    await revoke_families(session, families)
    return families

"""What a user sees of where they are signed in: sessions, API keys, linked providers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from jacameno.api.accounts.schemas import (
    IdentitiesOut,
    IdentityOut,
    KeyUseOut,
    SessionOut,
    SessionsOut,
)
from jacameno.api.accounts.sessions import announce_ended, describe_device, revoke_families
from jacameno.api.auth.principal import UserPrincipal
from jacameno.api.db.models import ApiKey, AuthSession, Identity, Project, RefreshToken
from jacameno.api.errors import NotFoundError
from jacameno.api.services import AppServices


async def list_sessions(services: AppServices, principal: UserPrincipal) -> SessionsOut:
    """The caller's live sessions (most recent first) and the active keys they made."""
    now = datetime.now(UTC)
    places = services.accounts.places
    async with services.database.session() as session:
        live = (
            select(RefreshToken.family_id)
            .where(
                RefreshToken.user_id == principal.user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .scalar_subquery()
        )
        rows = (
            await session.execute(
                select(AuthSession)
                .where(
                    AuthSession.user_id == principal.user_id,
                    AuthSession.ended_at.is_(None),
                    AuthSession.id.in_(live),
                )
                .order_by(AuthSession.last_used_at.desc())
            )
        ).scalars()
        sessions = [
            SessionOut(
                id=row.id,
                current=row.id == principal.family_id,
                method=row.method,
                device=describe_device(row.user_agent),
                ip=row.ip,
                place=await places.place(row.ip),
                created_at=row.created_at,
                last_used_at=row.last_used_at,
            )
            for row in rows
        ]
        keys = (
            await session.execute(
                select(ApiKey, Project.name)
                .join(Project, Project.id == ApiKey.project_id)
                .where(ApiKey.created_by == principal.user_id, ApiKey.revoked_at.is_(None))
                .order_by(ApiKey.created_at.desc())
            )
        ).all()
        api_keys = [
            KeyUseOut(
                id=key.id,
                name=key.name,
                prefix=key.prefix,
                project_id=key.project_id,
                project_name=project_name,
                role=key.role,
                device=describe_device(key.last_used_agent) if key.last_used_agent else None,
                ip=key.last_used_ip,
                place=await places.place(key.last_used_ip),
                created_at=key.created_at,
                last_used_at=key.last_used_at,
            )
            for key, project_name in keys
        ]
    return SessionsOut(sessions=sessions, api_keys=api_keys)


async def end_session(services: AppServices, principal: UserPrincipal, session_id: str) -> None:
    """End one of the caller's sessions (their current one too: that is signing out)."""
    async with services.database.session() as session:
        row = await session.get(AuthSession, session_id)
        if row is None or row.user_id != principal.user_id:
            raise NotFoundError("no such session")
        await revoke_families(session, [row.id])
    await announce_ended(services, [session_id])


async def revoke_key(services: AppServices, principal: UserPrincipal, key_id: str) -> None:
    """Revoke an API key the caller made; its open sockets close at once."""
    async with services.database.session() as session:
        key = await session.get(ApiKey, key_id)
        if key is None or key.created_by != principal.user_id:
            raise NotFoundError("no such API key of yours")
        key.revoked_at = key.revoked_at or datetime.now(UTC)
    services.live.api_key_revoked(key_id)


async def list_identities(services: AppServices, user_id: str) -> IdentitiesOut:
    providers = services.accounts.providers
    async with services.database.session() as session:
        rows = (
            await session.execute(
                select(Identity).where(Identity.user_id == user_id).order_by(Identity.created_at)
            )
        ).scalars()
        return IdentitiesOut(
            identities=[
                IdentityOut(
                    id=row.id,
                    provider=row.provider,
                    label=providers[row.provider].label
                    if row.provider in providers
                    else row.provider,
                    email=row.email,
                    created_at=row.created_at,
                    last_used_at=row.last_used_at,
                )
                for row in rows
            ]
        )

"""Who is calling: a user (access token) or a bot (project API key), as a typed principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.auth.actors import Actor
from jacameno.api.auth.revocation import RevocationList
from jacameno.api.auth.tokens import API_KEY_PREFIX, TokenIssuer, hash_secret
from jacameno.api.db.models import ApiKey, ProjectRole, User
from jacameno.api.errors import UnauthorizedError


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    """A signed-in person."""

    user_id: str
    email: str
    token_id: str
    family_id: str
    expires_at: int

    @property
    def identity(self) -> Actor:
        """The typed actor (``user:<id>``)."""
        return Actor.user(self.user_id)

    @property
    def actor(self) -> str:
        """The stored form of :attr:`identity`."""
        return str(self.identity)


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    """A bot or AI agent holding an API key scoped to one project and one role."""

    key_id: str
    project_id: str
    role: ProjectRole
    name: str

    @property
    def identity(self) -> Actor:
        """The typed actor (``apikey:<id>``)."""
        return Actor.api_key(self.key_id)

    @property
    def actor(self) -> str:
        """The stored form of :attr:`identity`."""
        return str(self.identity)


Principal = UserPrincipal | ApiKeyPrincipal


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("use 'Authorization: Bearer <token>'")
    return token.strip()


async def authenticate(
    token: str,
    *,
    session: AsyncSession,
    issuer: TokenIssuer,
    revoked: RevocationList,
    ip: str | None = None,
    agent: str = "",
) -> Principal:
    """Resolve an access token or API key to a principal; raise 401 when it is not valid.
    An API key's use is recorded: when, from ``ip``, with ``agent`` (its User-Agent)."""
    if token.startswith(API_KEY_PREFIX):
        return await _authenticate_api_key(token, session, ip, agent)
    claims = issuer.verify(token)
    if await revoked.any_revoked(claims.token_id, claims.family_id):
        raise UnauthorizedError("access token revoked")
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise UnauthorizedError("account not found or disabled")
    return UserPrincipal(
        user_id=user.id,
        email=user.email,
        token_id=claims.token_id,
        family_id=claims.family_id,
        expires_at=claims.expires_at,
    )


async def _authenticate_api_key(
    token: str, session: AsyncSession, ip: str | None, agent: str
) -> ApiKeyPrincipal:
    key = (
        await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_secret(token)))
    ).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise UnauthorizedError("invalid or revoked API key")
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .values(
            last_used_at=datetime.now(UTC),
            last_used_ip=ip if ip and ip != "unknown" else None,
            last_used_agent=agent[:400] or None,
        )
    )
    return ApiKeyPrincipal(
        key_id=key.id, project_id=key.project_id, role=ProjectRole(key.role), name=key.name
    )

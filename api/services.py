"""The long-lived services one application owns, opened and closed by its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from jacameno.api.accounts.service import Accounts
from jacameno.api.auth.passwords import PasswordHasher
from jacameno.api.auth.principal import Principal, authenticate, bearer_token
from jacameno.api.auth.revocation import RevocationList
from jacameno.api.auth.tokens import TokenIssuer
from jacameno.api.db import Database
from jacameno.api.errors import UnauthorizedError
from jacameno.api.live_access import LiveAccess
from jacameno.api.observability import Metrics
from jacameno.api.ratelimit import RateLimits
from jacameno.api.settings import Settings
from jacameno.api.storage import ObjectStore
from jacameno.api.ws_direct import DirectFrames, FramesFactory
from jacameno.audio_services.jobs.coordinator import JobCoordinator
from jacameno.audio_services.lyrics.service import LyricsService
from jacameno.collab.server import RoomServer

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(slots=True)
class AppServices:
    """Everything a request handler may use; reached through :func:`services_of`."""

    settings: Settings
    metrics: Metrics
    database: Database
    store: ObjectStore
    redis: Redis | None
    passwords: PasswordHasher
    tokens: TokenIssuer
    revoked: RevocationList
    rate_limits: RateLimits
    rooms: RoomServer
    #: Applies access changes to open collaboration sockets (see api/live_access.py).
    live: LiveAccess
    #: The audio job coordinator (runner, document watching); see api/job_runtime.py.
    jobs: JobCoordinator
    #: Lyrics suggestions, rewrites, analysis and the AI memory (api/lyrics_runtime.py).
    lyrics: LyricsService
    #: Sign-in providers, the account-email outbox, address places (api/accounts/).
    accounts: Accounts
    #: Makes the direct frame writer of a collaboration socket (api/ws_direct.py).
    frames_factory: FramesFactory = DirectFrames.for_scope

    async def principal_for(
        self, token: str, session: AsyncSession, *, ip: str | None = None, agent: str = ""
    ) -> Principal:
        """Authenticate an access token or API key (401 when invalid); an API key's last
        use is recorded with ``ip`` and ``agent``."""
        return await authenticate(
            token, session=session, issuer=self.tokens, revoked=self.revoked, ip=ip, agent=agent
        )


def services_of(connection: HTTPConnection) -> AppServices:
    """The running application's services (lifespan state)."""
    services = connection.state.services
    assert isinstance(services, AppServices), "the application lifespan has not started"
    return services


async def require_principal(connection: HTTPConnection, session: AsyncSession) -> Principal:
    """The caller of an HTTP request, from ``Authorization: Bearer``; 401 when missing."""
    token = bearer_token(connection.headers.get("authorization"))
    if token is None:
        raise UnauthorizedError("sign in first: send 'Authorization: Bearer <token>'")
    return await services_of(connection).principal_for(
        token, session, ip=client_ip(connection), agent=connection.headers.get("user-agent", "")
    )


def client_ip(connection: HTTPConnection) -> str:
    """The client's address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return connection.client.host if connection.client else "unknown"

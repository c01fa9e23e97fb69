"""The Starlette application: ``create_app(settings)`` and its one lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount

from jacameno.api import collab_route, files, health, soundfont
from jacameno.api.accounts.service import open_accounts
from jacameno.api.auth.passwords import PasswordHasher
from jacameno.api.auth.revocation import MemoryRevocationList, RedisRevocationList, RevocationList
from jacameno.api.auth.tokens import TokenIssuer
from jacameno.api.db import Database
from jacameno.api.db.catalog import sync_plugin_catalog
from jacameno.api.db.migrate import require_current_schema, upgrade
from jacameno.api.error_table import exception_handlers
from jacameno.api.errors import handle_http_exception, handle_unexpected
from jacameno.api.graphql.app import graphql_route
from jacameno.api.job_runtime import open_job_runtime
from jacameno.api.live_bus import open_live_access
from jacameno.api.lyrics_runtime import open_lyrics_service, written_lines_recorder
from jacameno.api.middleware import (
    BodyLimitMiddleware,
    ErrorBoundaryMiddleware,
    NulRefusalMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from jacameno.api.observability import Metrics, init_sentry
from jacameno.api.openapi import openapi_route
from jacameno.api.ratelimit import RateLimits
from jacameno.api.routes import (
    access,
    account,
    ai,
    analytics,
    assets,
    auth,
    documents,
    exports,
    jobs,
    lyrics,
    memory,
    midi,
    plugins,
    project_import,
    projects,
    sessions,
    sign_in,
    tracks,
    versions,
)
from jacameno.api.runtime_metrics import RuntimeCollector
from jacameno.api.services import AppServices
from jacameno.api.settings import Environment, Settings
from jacameno.api.storage import open_object_store
from jacameno.api.watchdog import LoopWatchdog
from jacameno.api.web_client import web_client_app
from jacameno.api.ws_direct import DirectFrames, FramesFactory, ServerSendMiddleware
from jacameno.audio_services.lyrics.watch import LyricsAnalyst
from jacameno.collab.config import CollabConfig
from jacameno.collab.redis_relay import RedisRelay
from jacameno.collab.server import RoomServer
from jacameno.collab.store_backends import create_document_store

log = structlog.get_logger("jacameno.app")
__version__ = version("jacameno")
UPLOAD_PREFIXES = ("/api/v1/tracks/upload", "/api/v1/projects/import")


def build_routes(settings: Settings) -> list[BaseRoute]:
    api_routes: list[BaseRoute] = [
        *auth.routes,
        *sign_in.routes,
        *sessions.routes,
        *account.routes,
        *memory.routes,
        *project_import.routes,
        *projects.routes,
        *access.routes,
        *analytics.routes,
        *plugins.routes,
        *documents.routes,
        *versions.routes,
        *tracks.routes,
        *assets.routes,
        *ai.routes,
        *lyrics.routes,
        *exports.routes,
        *midi.routes,
        *jobs.routes,
    ]
    routes: list[BaseRoute] = [
        *health.routes,
        *collab_route.routes,
        *files.routes,
        *soundfont.routes,
        *api_routes,
        openapi_route(api_routes, version=__version__),
        graphql_route(),
    ]
    web = web_client_app(settings.web_dist)
    if web is not None:
        routes.append(Mount("/", app=web, name="web"))
    return routes


def collab_config(settings: Settings) -> CollabConfig:
    return CollabConfig(
        max_message_bytes=settings.collab_max_message_bytes,
        send_queue_messages=settings.collab_send_queue_messages,
        room_grace_s=settings.collab_room_grace_s,
        compact_after_updates=settings.collab_compact_after_updates,
    )


def uvicorn_ws_options(settings: Settings) -> dict[str, Any]:
    """WebSocket options for uvicorn: the message limit is ours, set on purpose."""
    return {
        # uvicorn's own cap sits just above ours so that we close with a clear reason.
        "ws_max_size": settings.collab_max_message_bytes + 64 * 1024,
        "ws_per_message_deflate": settings.collab_ws_deflate,
    }


def uvicorn_proxy_options(settings: Settings) -> dict[str, Any]:
    """Proxy options for uvicorn: forwarding headers count only from ``trusted_proxies``.

    uvicorn's own default trusts 127.0.0.1, so any local caller could pick its
    address (and its rate-limit bucket) with ``X-Forwarded-For``; here nothing is
    trusted unless listed.
    """
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


def create_app(settings: Settings, *, frames_factory: FramesFactory | None = None) -> Starlette:
    """Build the application for ``settings`` (from :func:`api.settings.load_settings`).

    ``frames_factory`` makes each collaboration socket's direct frame writer (default
    :meth:`DirectFrames.for_scope`; tests pass a recording one).
    """
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            if settings.is_sqlite and settings.auto_migrate:
                await upgrade(settings.database_url)
            database = Database(settings.database_url, pool_size=settings.database_pool_size)
            stack.push_async_callback(database.aclose)
            # A schema older (or newer) than the code stops start-up with the fix.
            await require_current_schema(database.engine)
            if settings.is_sqlite and settings.auto_migrate:
                await sync_plugin_catalog(database)
            store = open_object_store(settings)
            stack.push_async_callback(store.aclose)
            redis = None
            revoked: RevocationList = MemoryRevocationList()
            if settings.redis_url:
                from redis.asyncio import Redis

                redis = Redis.from_url(settings.redis_url)
                stack.push_async_callback(redis.aclose)
                revoked = RedisRevocationList(redis)
            # Open while rooms use it: SQLite WAL checkpoints run on a thread it owns.
            document_store = await stack.enter_async_context(create_document_store(database.engine))
            watchdog = await stack.enter_async_context(LoopWatchdog())
            rooms = await stack.enter_async_context(
                # With Redis, rooms of one project are shared with the other processes.
                RoomServer(
                    document_store,
                    collab_config(settings),
                    relay=RedisRelay(redis) if redis is not None else None,
                )
            )
            collector = RuntimeCollector(rooms, watchdog)
            metrics.registry.register(collector)
            stack.callback(metrics.registry.unregister, collector)
            rate_limits = RateLimits(settings, redis)
            lyrics = await stack.enter_async_context(open_lyrics_service(settings, redis))
            # Stops before the rooms; keeps lyrics_meta.analysis current as people type.
            await stack.enter_async_context(
                LyricsAnalyst(
                    rooms,
                    delay_s=settings.lyrics_analysis_delay_s,
                    on_written=written_lines_recorder(database, lyrics),
                )
            )
            # Stops before the rooms: pending job results are written while rooms live.
            job_coordinator = await stack.enter_async_context(
                open_job_runtime(settings, database, store, rooms, rate_limits, lyrics)
            )
            # Rights changes reach the sockets of every process (Redis pub/sub, api.live_bus).
            live = await stack.enter_async_context(open_live_access(rooms, redis))
            accounts = await stack.enter_async_context(open_accounts(settings))
            services = AppServices(
                settings=settings,
                metrics=metrics,
                database=database,
                store=store,
                redis=redis,
                passwords=PasswordHasher(
                    time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
                ),
                tokens=TokenIssuer(settings.secret, ttl_s=settings.access_token_ttl_s),
                revoked=revoked,
                rate_limits=rate_limits,
                rooms=rooms,
                live=live,
                jobs=job_coordinator,
                lyrics=lyrics,
                accounts=accounts,
                frames_factory=frames_factory or DirectFrames.for_scope,
            )
            log.info(
                "started",
                database=database.dialect,
                storage=type(store).__name__,
                redis=redis is not None,
                env=settings.env.value,
            )
            yield {"services": services}
            log.info("stopping")

    middleware = [
        # Outermost: collab relays write frames with the server's own send (api.ws_direct).
        Middleware(ServerSendMiddleware),
        Middleware(RequestContextMiddleware, metrics=metrics),
        Middleware(SecurityHeadersMiddleware, hsts=settings.env is Environment.PRODUCTION),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        ),
        Middleware(NulRefusalMiddleware),
        Middleware(
            BodyLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            upload_max_bytes=settings.max_upload_bytes,
            upload_prefixes=UPLOAD_PREFIXES,
        ),
        # Innermost: an unforeseen exception is answered inside the middleware above.
        Middleware(ErrorBoundaryMiddleware),
    ]
    init_sentry(settings)
    collab_route.install_denial_noise_filter()
    return Starlette(
        routes=build_routes(settings),
        middleware=middleware,
        # One table answers every known error (api.error_table); anything else is the
        # 500 envelope from api.middleware.ErrorBoundaryMiddleware.
        exception_handlers={
            **exception_handlers(),
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )

"""The lyrics service as ``Settings`` ask for it, opened and closed by the app lifespan.

- The model: the offline generator, or with ``JACAMENO_OPENAI_API_KEY`` the OpenAI
  model (any compatible server at ``JACAMENO_OPENAI_BASE_URL``) with the offline one
  taking over when it fails.
- The AI memory: lancedb at ``JACAMENO_LANCEDB_URI`` with the bundled WordLlama
  embeddings.
- The cache: Redis when ``JACAMENO_REDIS_URL`` is set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from jacameno.api.auth.actors import ActorKind, parse_actor
from jacameno.api.db import Database
from jacameno.api.db.models import User
from jacameno.api.settings import Settings
from jacameno.audio_services.lyrics.fallback import FallbackLyricsModel
from jacameno.audio_services.lyrics.model import LyricsModel
from jacameno.audio_services.lyrics.offline import OfflineLyricsModel
from jacameno.audio_services.lyrics.openai_model import (
    DEFAULT_BASE_URL,
    OpenAILyricsConfig,
    OpenAILyricsModel,
)
from jacameno.audio_services.lyrics.service import LyricsService
from jacameno.audio_services.lyrics.watch import WrittenLines
from jacameno.audio_services.memory.embedder import WordLlamaEmbedder
from jacameno.audio_services.memory.store import MemoryStoreError, StyleMemory, Verdict

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "RedisSuggestionCache",
    "memory_storage_options",
    "open_lyrics_service",
    "written_lines_recorder",
]

log = logging.getLogger("jacameno.lyrics")


class RedisSuggestionCache:
    """:class:`~audio_services.lyrics.service.SuggestionCache` on Redis (JSON values)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, key: str) -> dict[str, object] | None:
        raw = await self._redis.get(key)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def put(self, key: str, value: Mapping[str, object], ttl_s: int) -> None:
        await self._redis.set(key, json.dumps(value), ex=ttl_s)


def memory_storage_options(settings: Settings) -> dict[str, str]:
    """lancedb's object-store options for an ``s3://`` memory URI, from the same
    ``JACAMENO_S3_*`` settings the audio store uses (none for a folder)."""
    if not settings.memory_uri.startswith("s3://"):
        return {}
    options = {"aws_region": settings.s3_region}
    if settings.s3_endpoint_url:
        options["aws_endpoint"] = settings.s3_endpoint_url
        if settings.s3_endpoint_url.startswith("http://"):
            options["allow_http"] = "true"
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        options["aws_access_key_id"] = settings.s3_access_key_id
        options["aws_secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
    return options


@asynccontextmanager
async def open_lyrics_service(
    settings: Settings, redis: Redis | None
) -> AsyncIterator[LyricsService]:
    """The lyrics service with its model, memory and cache; closed in reverse on exit."""
    async with AsyncExitStack() as stack:
        # One embedder (one copy of the model) for the memory and the offline rewrites.
        embedder = WordLlamaEmbedder()
        offline = OfflineLyricsModel(embedder)
        model: LyricsModel = offline
        if settings.openai_api_key is not None:
            config = OpenAILyricsConfig(
                model=settings.openai_model,
                api_key=settings.openai_api_key.get_secret_value(),
                base_url=settings.openai_base_url or DEFAULT_BASE_URL,
                timeout_s=settings.openai_timeout_s,
                max_retries=settings.openai_max_retries,
                stream=settings.openai_stream,
            )
            remote = await stack.enter_async_context(OpenAILyricsModel(config))
            model = FallbackLyricsModel(remote, offline)
        # Another instance's writes show within half a second, its own at once.
        memory = await stack.enter_async_context(
            StyleMemory(
                settings.memory_uri,
                embedder,
                storage_options=memory_storage_options(settings),
                warm_up=settings.lyrics_warm_up,
            )
        )
        cache = RedisSuggestionCache(redis) if redis is not None else None
        yield LyricsService(model, memory=memory, cache=cache)


def written_lines_recorder(database: Database, lyrics: LyricsService) -> WrittenLines:
    """What the lyrics analyst calls with the lines a writer added: kept in the AI memory
    of the person who wrote them (a bot's lines are not its owner's writing)."""

    async def record(actor: str, project_id: str, lines: list[str]) -> None:
        try:
            parsed = parse_actor(actor)
        except ValueError:
            return
        if parsed.kind is not ActorKind.USER:
            return
        async with database.session() as session:
            if await session.get(User, parsed.ident) is None:
                return
        try:
            await lyrics.remember(parsed.ident, lines, Verdict.WRITTEN, project_id=project_id)
        except MemoryStoreError as exc:
            log.warning("lines written in %s not remembered: %s", project_id, exc)

    return record

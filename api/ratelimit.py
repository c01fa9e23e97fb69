"""Rate limits with the ``limits`` package's async API (Redis when configured, else memory)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from api.errors import RateLimitedError
from api.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RateLimits:
    """Named rules checked with :meth:`hit`; a refused hit raises 429 with ``Retry-After``."""

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.enabled = settings.rate_limits_enabled
        self._storage: Storage
        if settings.redis_url and redis is not None:
            # Share the application's pool, which the lifespan closes.
            self._storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix="jacameno:rl",
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            )
        else:
            self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self.rules: dict[str, RateLimitItem] = {
            "auth_ip": parse(settings.rate_limit_auth_ip),
            "auth_account": parse(settings.rate_limit_auth_account),
            "ai_user": parse(settings.rate_limit_ai_user),
            "ws_connect_ip": parse(settings.rate_limit_ws_connect_ip),
            "upload_user": parse(settings.rate_limit_upload_user),
        }

    async def hit(self, rule: str, *identifiers: str) -> None:
        """Count one request for ``identifiers`` under ``rule``; raise when over the limit."""
        if not self.enabled:
            return
        item = self.rules[rule]
        if await self._limiter.hit(item, rule, *identifiers):
            return
        stats = await self._limiter.get_window_stats(item, rule, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitedError(
            f"too many requests; try again in {retry_after} s",
            retry_after_s=retry_after,
            details={"limit": str(item)},
        )

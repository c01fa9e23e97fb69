"""Revoked access tokens and token families, until their tokens would have expired anyway.

Access tokens are stateless; logout and refresh-token reuse put the token id or
the whole family here. With Redis every instance sees the same list.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RevocationList(Protocol):
    async def revoke(self, identifier: str, *, ttl_s: int) -> None:
        """Mark ``identifier`` (a token id or family id) revoked for ``ttl_s`` seconds."""
        ...

    async def any_revoked(self, *identifiers: str) -> bool: ...


class MemoryRevocationList:
    """Single-process revocation list; entries expire on their own."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def revoke(self, identifier: str, *, ttl_s: int) -> None:
        now = time.monotonic()
        self._until[identifier] = now + ttl_s
        if len(self._until) > 10_000:
            self._until = {k: v for k, v in self._until.items() if v > now}

    async def any_revoked(self, *identifiers: str) -> bool:
        now = time.monotonic()
        return any(self._until.get(identifier, 0.0) > now for identifier in identifiers)


class RedisRevocationList:
    """Revocation list shared by every instance through Redis keys with a TTL."""

    def __init__(self, redis: Redis, *, prefix: str = "jacameno:revoked:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def revoke(self, identifier: str, *, ttl_s: int) -> None:
        await self._redis.set(self._prefix + identifier, b"1", ex=max(ttl_s, 1))

    async def any_revoked(self, *identifiers: str) -> bool:
        if not identifiers:
            return False
        found = await self._redis.exists(*(self._prefix + i for i in identifiers))
        return int(found) > 0

"""Rate limits with the ``limits`` package's async API (Redis when configured, else memory).

:class:`RateLimits` holds the named rules (:meth:`RateLimits.hit`) and the
:class:`LoginThrottle`, which counts failed log-ins only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from jacameno.api.errors import RateLimitedError
from jacameno.api.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: Failures of one account counted for its delay; the delay reaches its cap long before.
MAX_COUNTED_FAILURES = 1_000_000
#: A counter an attempt holds a place in: the rule and its identifiers.
Counted = tuple[RateLimitItem, tuple[str, ...]]


def _refusal(item: RateLimitItem, reset_time: float) -> RateLimitedError:
    retry_after = max(1, math.ceil(reset_time - time.time()))
    return RateLimitedError(
        f"too many requests; try again in {retry_after} s",
        retry_after_s=retry_after,
        details={"limit": str(item)},
    )


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
            "ai_user": parse(settings.rate_limit_ai_user),
            "lyrics_user": parse(settings.rate_limit_lyrics_user),
            "ws_connect_ip": parse(settings.rate_limit_ws_connect_ip),
            "upload_user": parse(settings.rate_limit_upload_user),
            "account_mail": parse(settings.rate_limit_account_mail),
        }
        #: Failed log-ins (see :class:`LoginThrottle`), on the same storage.
        self.logins = LoginThrottle(settings, self._storage)

    async def hit(self, rule: str, *identifiers: str) -> None:
        """Count one request for ``identifiers`` under ``rule``; raise when over the limit."""
        if not self.enabled:
            return
        item = self.rules[rule]
        if await self._limiter.hit(item, rule, *identifiers):
            return
        stats = await self._limiter.get_window_stats(item, rule, *identifiers)
        raise _refusal(item, stats.reset_time)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One log-in, counted against its address until it turns out to succeed."""

    account: str
    address: str
    #: Seconds to wait before answering, from the account's recent failures.
    delay_s: float
    #: The counters this attempt holds a place in (empty when limits are off).
    counted: tuple[Counted, ...] = ()


class LoginThrottle:
    """Failed log-ins slow an attacker down without locking the owner out.

    - Per client address, and per account from one address: failures over the
      limit (``rate_limit_auth_ip``, ``rate_limit_auth_account``) are refused with
      429 and ``Retry-After``. An attempt takes its place in these counters before
      the password is checked, so parallel guesses cannot overtake the count, and
      gives it back when it succeeds: only failures stay counted.
    - Per account, across all addresses: each failure within
      ``login_failure_window_s`` doubles a delay before the answer, from
      ``login_delay_step_s`` up to ``login_delay_max_s``. Never a refusal, so
      failures from elsewhere cannot keep the owner out.

    Counters are fixed windows on the rate-limit storage (Redis when set: shared
    by every instance).
    """

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.enabled = settings.rate_limits_enabled
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)
        self._per_address = parse(settings.rate_limit_auth_ip)
        self._per_account_address = parse(settings.rate_limit_auth_account)
        self._per_account = RateLimitItemPerSecond(
            MAX_COUNTED_FAILURES, settings.login_failure_window_s
        )
        self.delay_step_s = settings.login_delay_step_s
        self.delay_max_s = settings.login_delay_max_s

    def delay_for(self, failures: int) -> float:
        """Seconds to wait before answering a log-in to an account with ``failures`` recent ones."""
        if failures <= 0:
            return 0.0
        return min(self.delay_max_s, self.delay_step_s * 2.0 ** min(failures - 1, 64))

    async def start(self, account: str, address: str) -> LoginAttempt:
        """Count an attempt from ``address``; 429 when that address is over a failure limit."""
        if not self.enabled:
            return LoginAttempt(account, address, 0.0)
        counters = (
            (self._per_address, ("login_failures_ip", address)),
            (self._per_account_address, ("login_failures_account_ip", account, address)),
        )
        counted: list[Counted] = []
        for item, identifiers in counters:
            counted.append((item, identifiers))
            if not await self._limiter.hit(item, *identifiers):
                # A refused attempt counts nowhere (a fixed window counts it anyway).
                stats = await self._limiter.get_window_stats(item, *identifiers)
                await self._give_back(counted)
                raise _refusal(item, stats.reset_time)
        failures = await self.recent_failures(account)
        return LoginAttempt(account, address, self.delay_for(failures), tuple(counted))

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: the attempt leaves the failure counters."""
        await self._give_back(attempt.counted)

    async def failed(self, attempt: LoginAttempt) -> None:
        """The password was wrong: the attempt stays counted and lengthens the account's delay."""
        if self.enabled:
            await self._storage.incr(
                self._account_key(attempt.account), self._per_account.get_expiry()
            )

    async def recent_failures(self, account: str) -> int:
        """Failed log-ins of ``account`` in the current window, from every address."""
        return await self._storage.get(self._account_key(account))

    def _account_key(self, account: str) -> str:
        return self._per_account.key_for("login_failures_account", account)

    async def _give_back(self, counted: Sequence[Counted]) -> None:
        # ``limits`` has no portable decrement; a negative increment is one (INCRBY in
        # Redis). Should the window end in between, the next one starts one short.
        for item, identifiers in counted:
            await self._storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)

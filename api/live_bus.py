"""Access changes reach every process: a Redis pub/sub bus under :mod:`api.live_access`.

A key revoked or a member removed through one ``jacameno serve`` process must close
the sockets that other processes hold. Each process's :class:`~api.live_access.LiveAccess`
applies a change locally and hands it to its :class:`LiveBus`, which publishes it as
one small JSON message on the channel ``jacameno:live:<db>`` (pub/sub ignores Redis's
database numbers; the suffix keeps deployments that share a server by number apart)::

    {"v": 1, "from": "<instance id>", "action": "api_key_revoked", "fields": {"key_id": "..."}}

Every process subscribes to that channel and applies the messages of the *other*
instances through :meth:`LiveAccess.apply_remote` (its own come back too and are
skipped). The bus lives as long as the application's lifespan (:func:`open_live_access`).

Failures do not reach the request that made the change: publishing is a queue
(:meth:`LiveBus.publish` never blocks), drained by one task that retries while Redis
is away. The subscriber reconnects with backoff. Both log once when Redis goes and once
when it is back. Pub/sub keeps nothing for a subscriber that is away: a change made
while this process could not listen does not reach its open sockets (new sockets are
still checked against the shared revocation list and the database).

Without Redis there is no bus and changes stay in the process, as with one server.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import structlog
from anyio.abc import TaskGroup
from redis.exceptions import RedisError

from jacameno.api.live_access import LiveAccess, RemoteChangeError
from jacameno.collab.server import RoomServer

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger("jacameno.live_bus")

CHANNEL_PREFIX = "jacameno:live"
VERSION = 1
#: Changes queued for publishing while Redis is slow or away; more are dropped (logged).
OUTBOX_MESSAGES = 1024
#: How long start-up waits for the first subscription before serving anyway.
FIRST_SUBSCRIBE_WAIT_S = 5.0
#: How long shutdown waits for queued changes to be published.
DRAIN_S = 2.0
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


def channel_for(redis: Redis) -> str:
    """The bus's channel for the Redis database ``redis`` uses."""
    return f"{CHANNEL_PREFIX}:{redis.connection_pool.connection_kwargs.get('db', 0)}"


class RemoteApplier(Protocol):
    """What the bus applies other instances' changes to (a :class:`LiveAccess`)."""

    async def apply_remote(self, action: str, fields: Mapping[str, Any]) -> None: ...


class _Outage:
    """Logs once when Redis goes away and once when it is back, not at every retry."""

    def __init__(self, role: str, channel: str) -> None:
        self.role = role
        self.channel = channel
        self.down = False
        self._backoff_s = FIRST_BACKOFF_S

    def failed(self, exc: BaseException) -> float:
        """Note a failure; return how long to wait before the next try."""
        if not self.down:
            self.down = True
            log.warning(
                "live bus lost Redis; retrying",
                role=self.role,
                error=repr(exc),
                channel=self.channel,
            )
        wait_s = self._backoff_s * (0.5 + random.random())
        self._backoff_s = min(self._backoff_s * 2, MAX_BACKOFF_S)
        return wait_s

    def recovered(self) -> None:
        self._backoff_s = FIRST_BACKOFF_S
        if self.down:
            self.down = False
            log.info("live bus reached Redis again", role=self.role, channel=self.channel)


class LiveBus:
    """One process's end of the bus: a :class:`~api.live_access.LivePublisher` that
    also listens (see the module doc). Run it with :meth:`running`."""

    def __init__(
        self, redis: Redis, *, channel: str | None = None, instance_id: str | None = None
    ) -> None:
        self.redis = redis
        self.channel = channel or channel_for(redis)
        self.instance_id = instance_id or uuid.uuid4().hex
        self._send, self._receive = anyio.create_memory_object_stream[bytes](OUTBOX_MESSAGES)
        self._drained = anyio.Event()
        self._first_try = anyio.Event()
        #: Subscriptions confirmed by Redis so far (one more after each reconnection).
        self.subscriptions = 0
        self._subscribed = anyio.Event()
        self.published = 0
        self.applied = 0
        self.dropped = 0

    # ------------------------------------------------------------------ publishing

    def publish(self, action: str, fields: Mapping[str, Any]) -> None:
        """Queue a change for the other instances; never blocks, never raises."""
        payload = {"v": VERSION, "from": self.instance_id, "action": action, "fields": fields}
        message = json.dumps(payload, separators=(",", ":")).encode()
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            self.dropped += 1
            log.error("live bus queue full: a change did not reach other processes", action=action)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.dropped += 1
            log.warning("live bus stopped: a change did not reach other processes", action=action)

    async def _publish_loop(self) -> None:
        outage = _Outage("publisher", self.channel)
        try:
            async with self._receive:
                async for message in self._receive:
                    while True:
                        try:
                            await self.redis.publish(self.channel, message)
                        except (OSError, RedisError) as exc:
                            await anyio.sleep(outage.failed(exc))
                        except Exception:  # not Redis's fault: retrying would not help
                            self.dropped += 1
                            log.exception("live bus could not publish a change")
                            break
                        else:
                            outage.recovered()
                            self.published += 1
                            break
        finally:
            self._drained.set()

    # ------------------------------------------------------------------ listening

    async def wait_subscriptions(self, count: int) -> None:
        """Wait until Redis has confirmed ``count`` subscriptions (tests: reconnections)."""
        while self.subscriptions < count:
            await self._subscribed.wait()

    def _note_subscribed(self) -> None:
        self.subscriptions += 1
        self._subscribed.set()
        self._subscribed = anyio.Event()
        self._first_try.set()

    async def _subscribe_loop(self, live: RemoteApplier, group: TaskGroup) -> None:
        outage = _Outage("subscriber", self.channel)
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":  # also after redis-py reconnects
                        outage.recovered()
                        self._note_subscribed()
                    elif message["type"] == "message":
                        await self._receive_message(message["data"], live, group)
            except Exception as exc:  # whatever went wrong, listen again (never stop the app)
                wait_s = outage.failed(exc)
            finally:
                with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            self._first_try.set()
            await anyio.sleep(wait_s)

    async def _receive_message(self, data: bytes, live: RemoteApplier, group: TaskGroup) -> None:
        try:
            message = json.loads(data)
            sender, action, fields = message["from"], message["action"], message["fields"]
            if not isinstance(action, str) or not isinstance(fields, dict):
                raise TypeError("action or fields of the wrong type")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("live bus dropped an unreadable message", error=str(exc))
            return
        if sender == self.instance_id:
            return
        if action == "project_deleted":
            # Deleting waits for the room's pending writes: the next changes do not wait.
            group.start_soon(self._apply, live, action, fields)
        else:
            await self._apply(live, action, fields)

    async def _apply(self, live: RemoteApplier, action: str, fields: Mapping[str, Any]) -> None:
        try:
            await live.apply_remote(action, fields)
        except RemoteChangeError as exc:
            log.warning("live bus dropped a change it cannot read", action=action, error=str(exc))
        except Exception:  # one change that fails must not stop the listening
            log.exception("live bus could not apply a change", action=action)
        else:
            self.applied += 1

    # ------------------------------------------------------------------ lifetime

    @asynccontextmanager
    async def running(self, live: RemoteApplier) -> AsyncIterator[LiveBus]:
        """Publish and listen until the block exits (then publish what is queued)."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._publish_loop)
            group.start_soon(self._subscribe_loop, live, group)
            with anyio.move_on_after(FIRST_SUBSCRIBE_WAIT_S):
                await self._first_try.wait()
            try:
                yield self
            finally:
                self._send.close()
                with anyio.move_on_after(DRAIN_S, shield=True):
                    await self._drained.wait()
                group.cancel_scope.cancel()


@asynccontextmanager
async def open_live_access(rooms: RoomServer, redis: Redis | None) -> AsyncIterator[LiveAccess]:
    """The lifespan's :class:`LiveAccess`: with ``redis``, its changes reach (and come
    from) every process through a :class:`LiveBus`; without, they stay here."""
    if redis is None:
        yield LiveAccess(rooms)
        return
    bus = LiveBus(redis)
    live = LiveAccess(rooms, publisher=bus)
    async with bus.running(live):
        log.info("live bus listening", channel=bus.channel, instance=bus.instance_id)
        yield live

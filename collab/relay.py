"""Rooms of one project spread over several server processes: the relay seam.

Every process that holds a room reads the other processes' durable updates of that
room and their presence changes from a shared relay (:class:`Relay`; Redis in
:mod:`collab.redis_relay`), and publishes its own there. The database log stays
the truth: an update is published only once it is written, so a process that
missed relayed updates (the relay was down, or trimmed past what it had read)
catches up from the store instead (:meth:`RelayBridge.catch_up`), and nothing a
peer was sent is ever only in the relay.

:class:`RelayBridge` is the room server's side: what a process does with what the
relay delivers (apply it to the room's document and relay it to the local peers).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import pycrdt
from anyio.abc import TaskStatus

from jacameno.collab.awareness import REMOTE_OWNER
from jacameno.collab.errors import CollabError, ProtocolError
from jacameno.collab.protocol import awareness_message, is_empty_update, sync_update
from jacameno.collab.room import Room

log = logging.getLogger("jacameno.collab.relay")


class RelaySink(Protocol):
    """What the relay delivers to a process."""

    def remote_update(self, room: str, update: bytes) -> None:
        """A durable update another process applied to ``room``."""

    def remote_awareness(self, room: str, payload: bytes) -> None:
        """Presence changes of peers connected to another process."""

    def awareness_wanted(self, room: str) -> None:
        """Another process loaded ``room`` and asks for every presence state."""

    async def catch_up(self, room: str) -> None:
        """Relayed updates of ``room`` may have been missed: take them from the store."""


class Relay(Protocol):
    """The shared channel between the processes holding rooms of one project."""

    async def run(self, sink: RelaySink, *, task_status: TaskStatus[None]) -> None:
        """Deliver to ``sink`` until cancelled (surviving relay outages)."""

    async def watch(self, room: str) -> None:
        """Start receiving ``room``'s traffic; call *before* reading it from the store,
        so that nothing written between the read and the first delivery is missed."""

    def unwatch(self, room: str) -> None:
        """Stop receiving ``room``'s traffic (the room was unloaded)."""

    def publish(self, room: str, updates: list[bytes]) -> None:
        """Offer durable updates of ``room`` to the other processes (never blocks)."""

    def publish_awareness(self, room: str, payload: bytes) -> None:
        """Offer presence changes of local peers (never blocks)."""

    def compacted(self, room: str) -> None:
        """``room``'s log was folded into its snapshot: old relayed entries may go."""


ReadStored = Callable[[str], Awaitable[pycrdt.Doc[Any]]]
#: Transaction origin of updates applied from the relay (written through another process).
RELAY_ORIGIN = "relay"


class RelayBridge:
    """:class:`RelaySink` over a room server's loaded rooms.

    ``rooms`` is the live mapping of loaded rooms; ``read_stored(name)`` folds the
    stored snapshot and log of a room into a document; ``relay`` is None for a
    process alone (then :meth:`loading` does nothing).
    """

    def __init__(
        self, rooms: dict[str, Room], read_stored: ReadStored, relay: Relay | None
    ) -> None:
        self._rooms = rooms
        self._read_stored = read_stored
        self._relay = relay
        #: Updates relayed for rooms being loaded, applied once they are registered.
        self._loading: dict[str, list[bytes]] = {}

    @asynccontextmanager
    async def loading(self, room: str) -> AsyncIterator[None]:
        """Around loading ``room`` from the store and registering it: watch the relay
        first, hold what it delivers meanwhile, then apply that (some of it may be in
        what was read, which is harmless; the rest would otherwise be lost)."""
        if self._relay is None:
            yield
            return
        self._loading[room] = []
        try:
            await self._relay.watch(room)
            yield
        except BaseException:
            self._relay.unwatch(room)
            raise
        finally:
            held = self._loading.pop(room, [])
        for update in held:
            self.remote_update(room, update)

    def remote_update(self, room: str, update: bytes) -> None:
        target = self._rooms.get(room)
        if target is None and room in self._loading:
            self._loading[room].append(update)
            return
        if target is None or target.deleted or is_empty_update(update):
            return
        if target.is_sound:
            try:
                target.apply(update, tag=RELAY_ORIGIN)
            except CollabError as exc:
                # The room reloads itself from the store, which holds this update.
                log.warning(
                    "a relayed update did not apply", extra={"room": room, "error": str(exc)}
                )
                return
        target.broadcast(sync_update(update))

    def remote_awareness(self, room: str, payload: bytes) -> None:
        target = self._rooms.get(room)
        if target is None:
            return
        try:
            forward = target.awareness.apply(payload, REMOTE_OWNER)
        except ProtocolError as exc:
            log.warning("relayed presence refused", extra={"room": room, "error": str(exc)})
            return
        if forward is not None:
            target.broadcast(awareness_message(forward))

    def awareness_wanted(self, room: str) -> None:
        target = self._rooms.get(room)
        if target is None or self._relay is None:
            return
        snapshot = target.awareness.snapshot()
        if snapshot is not None:
            self._relay.publish_awareness(room, snapshot)

    async def catch_up(self, room: str) -> None:
        target = self._rooms.get(room)
        if target is None or target.deleted:
            return
        try:
            stored = await self._read_stored(room)
        except CollabError as exc:
            log.warning(
                "catching up from the store failed", extra={"room": room, "error": str(exc)}
            )
            return
        if self._rooms.get(room) is not target or not target.is_sound:
            return  # evicted or reloading meanwhile: the next load reads the store anyway
        missing = stored.get_update(target.doc.get_state())
        if not is_empty_update(missing):
            self.remote_update(room, missing)

"""A Python peer for bots, AI agents and tests: the y-websocket protocol over ``websockets``.

Edit ``client.doc`` (a ``pycrdt.Doc``, or typed through ``client.project``) at any time,
connected or not. Connected, each local transaction is sent as one update; offline,
edits simply accumulate in the document, and on reconnect the sync handshake sends the
server everything it lacks in one message while the server sends back everything
missed, so both sides merge. Reconnects use exponential backoff with jitter; a refusal
(4401, 4403, 4404), a malformed-message close (4400) or a message-too-big close (1009:
the offline backlog exceeds the server's limit, retrying cannot help) stops
reconnecting and makes `wait_synced` raise `ClientRefusedError`.

y-websocket has no acknowledgements, so `flush()` asks the server, with a sync step 1
claiming none of this client's own edits, whether its stored document holds all of them
(the room's document only ever holds durable updates) and returns once it does; the
answer costs as many bytes as this client ever wrote. Call it before leaving.

    async with CollabClient.for_project("https://jacameno.example", project_id, key) as bot:
        await bot.wait_synced()
        bot.project.add_comment("bot", "nice groove", 12.0)
        await bot.flush()

``async with`` is shorthand for ``await task_group.start(client.run)`` ... ``await
client.stop()``; `disconnect()` takes the client offline until `connect()`.

Presence (`set_awareness`) is renewed every half of ``awareness_timeout_s`` while the
client runs, as browsers renew theirs (collab/client_presence.py).
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import anyio
import pycrdt
import websockets
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jacameno.collab.client_endpoint import (
    FATAL_CLOSE_CODES,
    REFUSAL_CODES,
    ClientRefusedError,
    NotStoredError,
    collab_url,
    refusal_reason,
)
from jacameno.collab.client_presence import DEFAULT_AWARENESS_TIMEOUT_S, ClientPresence
from jacameno.collab.errors import ProtocolError
from jacameno.collab.protocol import (
    AwarenessMessage,
    SyncMessage,
    SyncType,
    decode_message,
    sync_step1,
    sync_step2,
    sync_update,
)
from jacameno.collab.state_vectors import clock_of, state_vector_with
from jacameno.docs_model import ProjectDocument

#: Also importable from here: the refusal and flush errors, and ``collab_url``.
__all__ = ["ClientRefusedError", "CollabClient", "NotStoredError", "collab_url"]

log = logging.getLogger("jacameno.collab.client")

#: Frames queued while connected before the client drops the connection and resyncs.
DEFAULT_OUTBOX_FRAMES = 10_000
#: Seconds `CollabClient.flush` waits by default before raising `NotStoredError`.
DEFAULT_FLUSH_TIMEOUT_S = 30.0
#: Longest pause between two `flush` probes, in seconds.
FLUSH_MAX_INTERVAL_S = 0.2


class CollabClient:
    """One document synced with ``url`` (``ws://host/collab/<project_id>``)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        doc: pycrdt.Doc[Any] | None = None,
        reconnect: bool = True,
        max_backoff_s: float = 5.0,
        max_message_bytes: int = 64 * 1024 * 1024,
        outbox_frames: int = DEFAULT_OUTBOX_FRAMES,
        awareness_timeout_s: float = DEFAULT_AWARENESS_TIMEOUT_S,
    ) -> None:
        """``awareness_timeout_s``: seconds after which a peer's presence that was not
        renewed counts as gone (y-protocols: 30); this client renews its own every half."""
        self.url = url if token is None else f"{url}{'&' if '?' in url else '?'}token={token}"
        self.doc: pycrdt.Doc[Any] = doc if doc is not None else pycrdt.Doc()
        self.reconnect = reconnect
        self.max_backoff_s = max_backoff_s
        self.max_message_bytes = max_message_bytes
        self.close_code: int | None = None
        self.close_reason = ""
        self.connected = False
        self._project: ProjectDocument | None = None
        self._synced = anyio.Event()
        self._state_changed = anyio.Event()
        self._ws: ClientConnection | None = None
        self._outbox_size = outbox_frames
        # Created by each run(): memory streams must be closed by whoever opened them.
        self._outbox_send: MemoryObjectSendStream[bytes] | None = None
        self._outbox_receive: MemoryObjectReceiveStream[bytes] | None = None
        # One entry per sync step 1 we sent on this connection, answered in order.
        self._step2_waiters: deque[Callable[[bytes], None] | None] = deque()
        self._applying_remote = False
        self.presence = ClientPresence(
            self.doc, send=self._queue, changed=self._changed, timeout_s=awareness_timeout_s
        )
        self._task_group: TaskGroup | None = None
        self._outer_group: TaskGroup | None = None
        self._online = anyio.Event()
        self._online.set()
        self._subscription: pycrdt.Subscription | None = None

    @classmethod
    def for_project(
        cls, base_url: str, project_id: str, token: str, **options: Any
    ) -> CollabClient:
        """A client of project ``project_id`` on the server at ``base_url`` (``https://...``),
        authenticated with an access token or a bot's API key (``jmk_...``)."""
        return cls(collab_url(base_url, project_id), token=token, **options)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> CollabClient:
        group = anyio.create_task_group()
        await group.__aenter__()
        try:
            await group.start(self.run)
        except BaseException:
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)
            raise
        self._outer_group = group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group, self._outer_group = self._outer_group, None
        assert group is not None, "CollabClient was not entered"
        await self.stop()
        return await group.__aexit__(exc_type, exc, tb)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect and keep the document synced until `stop()`; start it with
        ``await task_group.start(client.run)``."""
        if self._task_group is not None:
            raise RuntimeError("this CollabClient is already running; one run() at a time")
        self._outbox_send, self._outbox_receive = anyio.create_memory_object_stream[bytes](
            self._outbox_size
        )
        self._subscription = self.doc.observe(self._on_local_transaction)
        try:
            async with self._outbox_send, self._outbox_receive, anyio.create_task_group() as group:
                self._task_group = group
                await group.start(self.presence.run)
                group.start_soon(self._run)
                task_status.started()
        finally:
            self._task_group = None
            self._outbox_send = self._outbox_receive = None
            self.doc.unobserve(self._subscription)
            self._subscription = None
            self.connected = False
            self._changed()

    async def stop(self) -> None:
        """Close the connection and stop; local edits not yet sent stay in ``doc``."""
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    @property
    def project(self) -> ProjectDocument:
        """Typed reads and writes of the document (``docs_model.ProjectDocument``)."""
        if self._project is None:
            self._project = ProjectDocument(self.doc)
        return self._project

    # ------------------------------------------------------------------ waiting

    async def wait_synced(self) -> None:
        """Wait until the client is connected and synced (raises if refused); offline, this
        waits for the next connection."""
        while not self._synced.is_set():
            self._raise_if_refused()
            await self._wait_change()

    async def wait_disconnected(self) -> int:
        """Wait until the connection closes; return its close code."""
        while self.connected:
            await self._wait_change()
        return self.close_code or 1006

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; re-checked after every received change."""
        while not predicate():
            self._raise_if_refused()
            await self._wait_change()

    async def flush(self, *, timeout_s: float | None = DEFAULT_FLUSH_TIMEOUT_S) -> None:
        """Return once the server has stored every edit this client made so far.

        Waits through disconnections; raises `NotStoredError` after ``timeout_s`` (None:
        wait forever) and `ClientRefusedError` if the server refuses the client. The check
        is on this client's clock, which only inserts and Map sets advance: a removal-only
        edit is confirmed by the next edit that adds content (it is sent all the same).
        """
        with anyio.move_on_after(timeout_s) as scope:
            await self._flush()
        if scope.cancelled_caught:
            raise NotStoredError(
                f"the server has not stored this client's edits after {timeout_s} s: it drops "
                "edits from read-only (viewer) tokens and keys, or it is offline or overloaded"
            )

    async def _flush(self) -> None:
        target = clock_of(self.doc.get_state(), self.client_id)
        interval_s = 0.005
        while target:
            self._raise_if_refused()
            ws = self._ws
            if ws is None or not self.connected or not self._synced.is_set():
                await self._wait_change()
                continue
            answer: list[bytes] = []

            def on_answer(update: bytes, answer: list[bytes] = answer) -> None:
                answer.append(update)

            # Claim to lack all of our own edits (and nothing else): the answer holds what
            # the server stored of them. (The state vector of an update only counts a
            # client's structs from clock 0, so asking for just the latest one cannot tell.)
            probe = state_vector_with(self.doc.get_state(), self.client_id, 0)
            self._step2_waiters.append(on_answer)
            try:
                await ws.send(sync_step1(probe))
            except ConnectionClosed:
                await self._wait_change()
                continue
            while not answer and self._ws is ws:
                await self._wait_change()
            if answer and clock_of(pycrdt.get_state(answer[0]), self.client_id) >= target:
                return
            await anyio.sleep(interval_s)  # stored shortly: the update log writes in batches
            interval_s = min(interval_s * 2, FLUSH_MAX_INTERVAL_S)

    def _raise_if_refused(self) -> None:
        if self.close_code in FATAL_CLOSE_CODES:
            raise ClientRefusedError(self.close_code, self.close_reason)

    async def _wait_change(self) -> None:
        await self._state_changed.wait()

    def _changed(self) -> None:
        self._state_changed.set()
        self._state_changed = anyio.Event()

    # ------------------------------------------------------------------ online / offline

    async def disconnect(self) -> None:
        """Go offline until `connect()`; edits keep working and are merged on reconnect."""
        self._online = anyio.Event()
        if self._ws is not None:
            await self._ws.close()

    def connect(self) -> None:
        """Come back online after `disconnect()` (the handshake merges both sides)."""
        self._online.set()

    # ------------------------------------------------------------------ awareness

    def set_awareness(self, state: Mapping[str, Any] | None) -> None:
        """Publish this client's presence (None removes it); renewed while the client runs."""
        self.presence.set_local(state)

    @property
    def awareness_states(self) -> dict[int, Any]:
        """The presence of every other client in the room, by client id."""
        return self.presence.remote_states()

    # ------------------------------------------------------------------ internals

    def _on_local_transaction(self, event: pycrdt.TransactionEvent) -> None:
        if not self._applying_remote:
            self._queue(sync_update(event.update))

    def _queue(self, frame: bytes) -> None:
        if not self.connected or self._outbox_send is None:
            return  # the next handshake sends whatever the server lacks
        try:
            self._outbox_send.send_nowait(frame)
        except anyio.WouldBlock:
            # The next handshake resends the whole backlog in one message: drop and resync.
            log.info("outbox full; reconnecting to resync", extra={"frames": self._outbox_size})
            self.connected = False
            if self._ws is not None and self._task_group is not None:
                self._task_group.start_soon(self._ws.close)

    def _apply_remote(self, update: bytes) -> None:
        self._applying_remote = True
        try:
            self.doc.apply_update(update)
        finally:
            self._applying_remote = False

    async def _run(self) -> None:
        backoff_s = 0.1
        while True:
            await self._online.wait()
            try:
                async with websockets.connect(
                    self.url, max_size=self.max_message_bytes, compression=None, open_timeout=10
                ) as ws:
                    backoff_s = 0.1
                    await self._session(ws)
            except InvalidStatus as exc:
                # The server refuses before accepting, with an HTTP status and a JSON reason.
                status = exc.response.status_code
                self.close_code = REFUSAL_CODES.get(status, status)
                self.close_reason = refusal_reason(exc.response.body) or f"HTTP {status}"
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                log.debug("connection failed", extra={"error": str(exc)})
            self.connected = False
            self._ws = None
            self._synced = anyio.Event()
            self.presence.forget_remote()  # the server sends every live state on reconnect
            self._changed()
            if not self.reconnect or self.close_code in FATAL_CLOSE_CODES:
                return
            if self._online.is_set():
                await anyio.sleep(backoff_s * (0.5 + random.random()))  # jitter spreads reconnects
                backoff_s = min(backoff_s * 2, self.max_backoff_s)

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._synced = anyio.Event()
        self._step2_waiters.clear()
        # Anything queued before is covered by the handshake below.
        assert self._outbox_receive is not None
        while True:
            try:
                self._outbox_receive.receive_nowait()
            except anyio.WouldBlock:
                break
        self.connected = True
        self.close_code = None
        self._changed()
        try:
            self._step2_waiters.append(None)  # the handshake's own answer
            await ws.send(sync_step1(self.doc.get_state()))
            self.presence.announce()  # queued: the send loop below sends it
            async with anyio.create_task_group() as group:
                group.start_soon(self._send_loop, ws)
                try:
                    async for frame in ws:
                        if isinstance(frame, str):
                            raise ProtocolError("server sent a text frame")
                        await self._handle(ws, frame)
                except ConnectionClosed:
                    pass  # caught here: out of the task group it would be an ExceptionGroup
                group.cancel_scope.cancel()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code if ws.close_code is not None else 1006
            self.close_reason = ws.close_reason or ""

    async def _send_loop(self, ws: ClientConnection) -> None:
        assert self._outbox_receive is not None
        try:
            async for frame in self._outbox_receive:
                await ws.send(frame)
        except ConnectionClosed:
            return  # the reader sees the close too and ends the session

    async def _handle(self, ws: ClientConnection, frame: bytes) -> None:
        message = decode_message(frame)
        if isinstance(message, SyncMessage):
            if message.sync_type is SyncType.STEP1:
                await ws.send(sync_step2(self.doc.get_update(message.payload)))
                return
            self._apply_remote(message.payload)
            if message.sync_type is SyncType.STEP2:
                waiter = self._step2_waiters.popleft() if self._step2_waiters else None
                if waiter is not None:
                    waiter(message.payload)
                self._synced.set()
            self._changed()
        elif isinstance(message, AwarenessMessage):
            self.presence.apply(message.payload)  # calls _changed() when something changed

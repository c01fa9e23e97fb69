"""A Python peer for bots, AI agents and tests: the y-websocket protocol over ``websockets``.

Edit ``client.doc`` (a ``pycrdt.Doc``) at any time, connected or not. Connected,
each local transaction is sent as an update; offline, edits simply accumulate in
the document, and on reconnect the sync handshake sends the server everything it
lacks in one message while the server sends back everything missed. Reconnects
use exponential backoff; a refusal (4401, 4403, 4404) stops reconnecting.

    async with CollabClient(url, token=key) as client:
        await client.wait_synced()
        client.doc.get("comments", type=pycrdt.Array).append("hello")
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import anyio
import pycrdt
import websockets
from anyio.abc import TaskGroup
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from collab.channel import CloseCode
from collab.errors import CollabError, ProtocolError
from collab.protocol import (
    AwarenessEntry,
    AwarenessMessage,
    SyncMessage,
    SyncType,
    awareness_message,
    decode_awareness,
    decode_message,
    encode_awareness,
    sync_step1,
    sync_step2,
    sync_update,
)

log = logging.getLogger("jacameno.collab.client")

#: Close codes after which reconnecting cannot help.
FATAL_CLOSE_CODES = frozenset(
    {CloseCode.UNAUTHORIZED, CloseCode.FORBIDDEN, CloseCode.NOT_FOUND, CloseCode.MALFORMED}
)


class ClientRefusedError(CollabError):
    """The server refused this client (bad token, no access, no such project)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"server refused the connection: {code} {reason}")
        self.code = code
        self.reason = reason


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
    ) -> None:
        self.url = url if token is None else f"{url}{'&' if '?' in url else '?'}token={token}"
        self.doc: pycrdt.Doc[Any] = doc if doc is not None else pycrdt.Doc()
        self.reconnect = reconnect
        self.max_backoff_s = max_backoff_s
        self.max_message_bytes = max_message_bytes
        self.awareness_states: dict[int, Any] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        self.connected = False
        self._synced = anyio.Event()
        self._state_changed = anyio.Event()
        self._ws: ClientConnection | None = None
        self._outbox_send, self._outbox_receive = anyio.create_memory_object_stream[bytes](10_000)
        self._applying_remote = False
        self._local_clock = 0
        self._local_state: Mapping[str, Any] | None = None
        self._task_group: TaskGroup | None = None
        self._stopped = anyio.Event()
        self._subscription = self.doc.observe(self._on_local_transaction)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> CollabClient:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        self.doc.unobserve(self._subscription)
        try:
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            self._outbox_send.close()
            self._outbox_receive.close()

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    async def wait_synced(self) -> None:
        """Wait until the current connection finished its first sync (raises if refused)."""
        while not self._synced.is_set():
            if self.close_code in FATAL_CLOSE_CODES:
                raise ClientRefusedError(self.close_code, self.close_reason)
            await self._wait_change()

    async def wait_disconnected(self) -> int:
        """Wait until the connection closes; return its close code."""
        while self.connected:
            await self._wait_change()
        return self.close_code or 1006

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; re-checked after every received change."""
        while not predicate():
            await self._wait_change()

    async def _wait_change(self) -> None:
        await self._state_changed.wait()

    def _changed(self) -> None:
        self._state_changed.set()
        self._state_changed = anyio.Event()

    async def disconnect(self) -> None:
        """Drop the current connection (reconnects later if ``reconnect``); edits keep working."""
        if self._ws is not None:
            await self._ws.close()

    # ------------------------------------------------------------------ awareness

    def set_awareness(self, state: Mapping[str, Any] | None) -> None:
        """Publish this client's presence (None removes it)."""
        self._local_state = state
        self._local_clock += 1
        self._queue(awareness_message(self._awareness_payload()))

    def _awareness_payload(self) -> bytes:
        state_json = "null" if self._local_state is None else json.dumps(self._local_state)
        return encode_awareness([AwarenessEntry(self.client_id, self._local_clock, state_json)])

    # ------------------------------------------------------------------ internals

    def _on_local_transaction(self, event: pycrdt.TransactionEvent) -> None:
        if not self._applying_remote:
            self._queue(sync_update(event.update))

    def _queue(self, frame: bytes) -> None:
        if self.connected:
            try:
                self._outbox_send.send_nowait(frame)
            except anyio.WouldBlock:
                # A backlog this large is resent whole by the next sync; drop and reconnect.
                self._task_group_cancel_connection()

    def _task_group_cancel_connection(self) -> None:
        if self._ws is not None and self._task_group is not None:
            self._task_group.start_soon(self._ws.close)

    def _apply_remote(self, update: bytes) -> None:
        self._applying_remote = True
        try:
            self.doc.apply_update(update)
        finally:
            self._applying_remote = False

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                async with websockets.connect(
                    self.url, max_size=self.max_message_bytes, compression=None, open_timeout=10
                ) as ws:
                    backoff = 0.1
                    await self._session(ws)
            except InvalidStatus as exc:
                self.close_code = exc.response.status_code
                self.close_reason = "refused before the handshake"
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                log.debug("connection failed", extra={"error": str(exc)})
            self.connected = False
            self._ws = None
            self._changed()
            if not self.reconnect or self.close_code in FATAL_CLOSE_CODES:
                return
            await anyio.sleep(backoff * (0.5 + random.random()))  # jitter spreads reconnects
            backoff = min(backoff * 2, self.max_backoff_s)

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._synced = anyio.Event()
        # Anything queued while offline is covered by the handshake below.
        while True:
            try:
                self._outbox_receive.receive_nowait()
            except anyio.WouldBlock:
                break
        self.connected = True
        self.close_code = None
        self._changed()
        try:
            await ws.send(sync_step1(self.doc.get_state()))
            if self._local_state is not None:
                await ws.send(awareness_message(self._awareness_payload()))
            async with anyio.create_task_group() as group:
                group.start_soon(self._send_loop, ws)
                async for frame in ws:
                    if isinstance(frame, str):
                        raise ProtocolError("server sent a text frame")
                    await self._handle(ws, frame)
                group.cancel_scope.cancel()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code if ws.close_code is not None else 1006
            self.close_reason = ws.close_reason or ""

    async def _send_loop(self, ws: ClientConnection) -> None:
        async for frame in self._outbox_receive:
            await ws.send(frame)

    async def _handle(self, ws: ClientConnection, frame: bytes) -> None:
        message = decode_message(frame)
        if isinstance(message, SyncMessage):
            if message.sync_type is SyncType.STEP1:
                await ws.send(sync_step2(self.doc.get_update(message.payload)))
            else:
                self._apply_remote(message.payload)
                if message.sync_type is SyncType.STEP2 and not self._synced.is_set():
                    self._synced.set()
                self._changed()
        elif isinstance(message, AwarenessMessage):
            for entry in decode_awareness(message.payload):
                if entry.removed:
                    self.awareness_states.pop(entry.client_id, None)
                else:
                    self.awareness_states[entry.client_id] = json.loads(entry.state_json)
            self._changed()

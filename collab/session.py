"""One joined connection's session in a room: its read loop, writer and grant expiry.

:meth:`collab.server.RoomServer.serve` opens the room and joins the connection;
:func:`run_session` then reads the peer's frames into the room until the peer
leaves or the connection is told to close, with the close code of
:func:`collab.close_codes.close_for` for whatever the room refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
import anyio.lowlevel

from jacameno.collab.channel import ChannelClosedError, CloseCode
from jacameno.collab.close_codes import RESTART_REASON, close_for
from jacameno.collab.connection import Connection
from jacameno.collab.errors import CollabError, PersistenceError
from jacameno.collab.room import Room

log = logging.getLogger("jacameno.collab.server")

#: Seconds one connection's frames may be handled back to back before others get a turn.
READ_SLICE_S = 0.005


async def run_session(
    room: Room,
    connection: Connection,
    *,
    max_message_bytes: int,
    is_stopping: Callable[[], bool],
) -> None:
    """Serve ``connection`` in ``room`` until it closes (its writer, reader and expiry).

    ``is_stopping`` tells whether the server is shutting down: the update log then
    refuses writes, and the peer is told to reconnect rather than that the store failed.
    """
    async with anyio.create_task_group() as group:

        async def write() -> None:
            await connection.write_loop()
            group.cancel_scope.cancel()

        async def expire(at: float) -> None:
            await anyio.sleep(max(0.0, at - time.time()))
            connection.close(
                CloseCode.UNAUTHORIZED, "access token expired; reconnect with a fresh one"
            )

        group.start_soon(write)
        if connection.grant.expires_at is not None:
            group.start_soon(expire, connection.grant.expires_at)
        if await _read_loop(room, connection, max_message_bytes, is_stopping):
            group.cancel_scope.cancel()


async def _read_loop(
    room: Room, connection: Connection, limit: int, is_stopping: Callable[[], bool]
) -> bool:
    """Read until the peer leaves (True) or the connection is told to close (False).

    A peer with thousands of frames queued would otherwise be served back to back
    (a receive from a non-empty queue never suspends): past a slice of
    :data:`READ_SLICE_S` the loop lets every other task run before it reads on.
    """
    slice_started = time.monotonic()
    while not connection.closing:
        if time.monotonic() - slice_started > READ_SLICE_S:
            await anyio.lowlevel.checkpoint()
            slice_started = time.monotonic()
        try:
            frame = await connection.channel.receive()
        except ChannelClosedError:
            if connection.close_code is None:
                connection.close_code = 1000
                connection.close_reason = "peer closed"
            return True
        if len(frame) > limit:
            connection.close(
                CloseCode.MESSAGE_TOO_BIG, f"message of {len(frame)} bytes exceeds {limit}"
            )
            return False
        try:
            await room.receive(connection, frame)
        except CollabError as exc:
            if isinstance(exc, PersistenceError) and is_stopping():
                # The update log is closed: the server is stopping.
                connection.close(CloseCode.SERVICE_RESTART, RESTART_REASON)
                return False
            close = close_for(exc)
            if close.code == CloseCode.MALFORMED:
                log.info(
                    "closing a peer that sent a bad message",
                    extra={"room": room.name, "actor": connection.grant.actor, "error": str(exc)},
                )
            connection.close(close.code, close.reason)
            return False
    return False

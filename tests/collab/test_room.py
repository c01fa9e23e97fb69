"""Relaying persisted updates: one frame per update, or one merged frame per batch."""

from __future__ import annotations

from typing import Any, cast

import anyio
import pycrdt

from jacameno.collab.access import Grant
from jacameno.collab.config import CollabConfig
from jacameno.collab.connection import Connection
from jacameno.collab.protocol import SyncMessage, decode_message
from jacameno.collab.room import CollabStats, Room
from jacameno.collab.update_log import PendingWrite, UpdateLog

WRITER = Grant(actor="user:test", can_write=True)


class RecordingChannel:
    """A channel that keeps what it is sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    @property
    def remote(self) -> str:
        return "test"

    async def receive(self) -> bytes:
        raise AssertionError("not read in these tests")

    def send_now(self, message: bytes) -> bool:
        return False

    async def send(self, message: bytes) -> None:
        self.sent.append(message)

    async def close(self, code: int, reason: str) -> None:
        return None


def _room() -> Room:
    return Room(
        "song",
        pycrdt.Doc(),
        # Never used: these tests hand writes to the room as if the log had stored them.
        update_log=cast(UpdateLog, object()),
        stats=CollabStats(),
        log_count=0,
        log_bytes=0,
        on_log_growth=lambda room: None,
    )


def _peer(room: Room) -> tuple[Connection, RecordingChannel]:
    channel = RecordingChannel()
    connection = Connection(channel, grant=WRITER, config=CollabConfig())
    room.join(connection)
    channel.sent.clear()  # the greeting (sync step 1)
    return connection, channel


def _edit(client_id: int, key: str) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client_id)
    doc.get("tracks", type=pycrdt.Map)[key] = key
    return doc.get_update()


def _updates(channel: RecordingChannel) -> list[bytes]:
    messages = [decode_message(frame) for frame in channel.sent]
    assert all(isinstance(m, SyncMessage) for m in messages)
    return [m.payload for m in messages if isinstance(m, SyncMessage)]


def _state(updates: list[bytes]) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    for update in updates:
        doc.apply_update(update)
    return doc.get_state()


async def test_a_single_update_goes_to_everyone_but_its_sender() -> None:
    room = _room()
    (a, a_channel), (_, b_channel) = _peer(room), _peer(room)
    update = _edit(1, "drums")
    room.persisted([PendingWrite(target=room, room="song", update=update, origin=a.id)])
    assert a_channel.sent == []
    assert _updates(b_channel) == [update]


async def test_a_batch_from_several_senders_is_one_merged_frame_to_everyone() -> None:
    room = _room()
    (a, a_channel), (b, b_channel), (_, c_channel) = _peer(room), _peer(room), _peer(room)
    writes = [
        PendingWrite(target=room, room="song", update=_edit(1, "drums"), origin=a.id),
        PendingWrite(target=room, room="song", update=_edit(2, "bass"), origin=b.id),
        PendingWrite(target=room, room="song", update=_edit(1, "keys"), origin=a.id),
    ]
    room.persisted(writes)
    expected = _state([w.update for w in writes])
    for channel in (a_channel, b_channel, c_channel):
        (merged,) = _updates(channel)  # one frame each, senders included
        assert _state([merged]) == expected


async def test_a_batch_from_one_sender_is_not_echoed_to_it() -> None:
    room = _room()
    (a, a_channel), (_, b_channel) = _peer(room), _peer(room)
    writes = [
        PendingWrite(target=room, room="song", update=_edit(1, key), origin=a.id)
        for key in ("drums", "bass")
    ]
    room.persisted(writes)
    assert a_channel.sent == []
    (merged,) = _updates(b_channel)
    assert _state([merged]) == _state([w.update for w in writes])


class BrokenChannel(RecordingChannel):
    """A channel whose every send fails with an unexpected error."""

    def send_now(self, message: bytes) -> bool:
        raise RuntimeError("the transport exploded")

    async def send(self, message: bytes) -> None:
        raise RuntimeError("the transport exploded")


async def test_one_failing_peer_never_stops_the_room() -> None:
    room = _room()
    broken = Connection(BrokenChannel(), grant=WRITER, config=CollabConfig())
    room.join(broken)  # its greeting already fails: it is closed with 1011
    (_, a_channel), (b, _) = _peer(room), _peer(room)
    write = PendingWrite(target=room, room="song", update=_edit(1, "drums"), origin=b.id)
    room.apply(write.update, tag="peer")  # as submit() does
    room.persisted([write])
    assert broken.close_code == 1011
    assert _updates(a_channel) == [write.update]  # the others still get it
    assert room.pending == 0  # and the bookkeeping ran: nothing waits for a flush forever
    with anyio.fail_after(1):
        await room.flushed()
    assert room.doc.get_state() == _state([write.update])

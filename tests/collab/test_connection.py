"""Eager sends: frames go out from the fan-out when they can, in order when they cannot."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from jacameno.collab.access import Grant
from jacameno.collab.channel import ChannelClosedError, CloseCode
from jacameno.collab.config import CollabConfig
from jacameno.collab.connection import ABNORMAL_CLOSURE, Connection, start_eagerly

WRITER = Grant(actor="user:test", can_write=True)


class GatedChannel:
    """A channel whose transport is writable only while ``writable`` is set (like uvicorn's).

    With ``direct``, ``send_now`` writes while writable (as the uvicorn channel does).
    """

    def __init__(self, *, direct: bool = False) -> None:
        self.direct = direct
        self.sent_now = 0
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent: list[bytes] = []
        self.closed: tuple[int, str] | None = None
        self.broken = False
        self.sent_event = asyncio.Event()

    @property
    def remote(self) -> str:
        return "test"

    async def receive(self) -> bytes:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    def send_now(self, message: bytes) -> bool:
        if not self.direct or not self.writable.is_set() or self.broken:
            return False
        self.sent.append(message)
        self.sent_now += 1
        return True

    async def send(self, message: bytes) -> None:
        await self.writable.wait()
        if self.broken:
            raise ChannelClosedError("broken pipe")
        self.sent.append(message)
        self.sent_event.set()

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def test_start_eagerly_finishes_a_coroutine_that_never_suspends() -> None:
    done: list[int] = []

    async def quick() -> None:
        done.append(1)

    assert start_eagerly(quick()) is None
    assert done == [1]


async def test_start_eagerly_hands_back_the_rest_of_a_suspended_coroutine() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def slow() -> None:
        steps.append("before")
        await gate.wait()
        await asyncio.sleep(0)
        steps.append("after")

    rest = start_eagerly(slow())
    assert rest is not None
    assert steps == ["before"]
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: rest)
        await asyncio.sleep(0)
        assert steps == ["before"]
        gate.set()
    assert steps == ["before", "after"]


async def test_start_eagerly_raises_early_errors_and_delivers_late_ones() -> None:
    async def fails_at_once() -> None:
        raise ChannelClosedError("gone")

    with pytest.raises(ChannelClosedError):
        start_eagerly(fails_at_once())

    gate = asyncio.Event()

    async def fails_later() -> None:
        await gate.wait()
        raise ChannelClosedError("gone later")

    rest = start_eagerly(fails_later())
    assert rest is not None
    gate.set()
    with pytest.raises(ChannelClosedError, match="gone later"):
        await rest


async def test_cancelling_the_rest_cancels_the_coroutine() -> None:
    cleaned: list[bool] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    rest = start_eagerly(waits_forever())
    assert rest is not None
    with anyio.move_on_after(0.01):
        await rest
    assert cleaned == [True]


@pytest.mark.parametrize("direct", [False, True], ids=["send", "send_now"])
async def test_frames_keep_their_order_across_back_pressure(direct: bool) -> None:
    channel = GatedChannel(direct=direct)
    connection = Connection(channel, grant=WRITER, config=CollabConfig())
    async with anyio.create_task_group() as group:
        group.start_soon(connection.write_loop)
        connection.send(b"1")
        assert channel.sent == [b"1"]  # sent from the caller, no task switch
        channel.writable.clear()
        for frame in (b"2", b"3", b"4"):
            connection.send(frame)
        await asyncio.sleep(0)
        assert channel.sent == [b"1"]
        channel.writable.set()
        with anyio.fail_after(5):
            while len(channel.sent) < 4:
                channel.sent_event.clear()
                await channel.sent_event.wait()
        connection.send(b"5")
        assert channel.sent == [b"1", b"2", b"3", b"4", b"5"]
        connection.close(CloseCode.SERVICE_RESTART, "bye")
    assert channel.closed == (CloseCode.SERVICE_RESTART, "bye")
    # Directly: 1 and 5; 2-4 waited for the transport in the writer task.
    assert channel.sent_now == (2 if direct else 0)


async def test_a_peer_that_stays_unwritable_is_closed_as_too_slow() -> None:
    channel = GatedChannel()
    connection = Connection(channel, grant=WRITER, config=CollabConfig(send_queue_messages=4))
    async with anyio.create_task_group() as group:
        group.start_soon(connection.write_loop)
        channel.writable.clear()
        for i in range(10):
            connection.send(bytes([i]))
        assert connection.close_code == CloseCode.TOO_SLOW
        channel.writable.set()
    assert channel.closed is not None
    assert channel.closed[0] == CloseCode.TOO_SLOW


async def test_a_broken_channel_ends_the_connection_without_a_close_frame() -> None:
    channel = GatedChannel()
    connection = Connection(channel, grant=WRITER, config=CollabConfig())
    async with anyio.create_task_group() as group:
        group.start_soon(connection.write_loop)
        channel.broken = True
        connection.send(b"x")
        assert connection.close_code == ABNORMAL_CLOSURE
    assert channel.closed is None

"""Presence under control: every cost a peer can cause with awareness is capped."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from jacameno.collab.awareness import RoomAwareness
from jacameno.collab.config import CollabConfig
from jacameno.collab.errors import ProtocolError
from jacameno.collab.protocol import (
    AwarenessEntry,
    AwarenessMessage,
    awareness_message,
    decode_awareness,
    decode_message,
    encode_awareness,
)
from tests.collab.conftest import CollabWorld

TIMEOUT_S = 30


def _update(*entries: tuple[int, int, Any]) -> bytes:
    return encode_awareness(
        [AwarenessEntry(client, clock, json.dumps(state)) for client, clock, state in entries]
    )


# ---------------------------------------------------------------------------- unit


def test_a_connection_cannot_overwrite_or_remove_another_clients_state() -> None:
    awareness = RoomAwareness()
    assert awareness.apply(_update((1, 1, {"name": "ada"})), connection_id=10) is not None
    assert awareness.apply(_update((1, 2, {"name": "mallory"})), connection_id=20) is None
    assert awareness.apply(_update((1, 3, None)), connection_id=20) is None
    snapshot = awareness.snapshot()
    assert snapshot is not None
    assert [json.loads(e.state_json) for e in decode_awareness(snapshot)] == [{"name": "ada"}]
    assert awareness.counters.foreign == 2


def test_echoes_are_dropped_and_removals_forget_the_client() -> None:
    config = CollabConfig(awareness_timeout_s=30)
    awareness = RoomAwareness(config)
    awareness.apply(_update((1, 1, {"x": 1})), connection_id=10, now=0.0)
    assert awareness.apply(_update((1, 1, {"x": 1})), connection_id=20, now=1.0) is None
    awareness.drop_connection(10, now=2.0)
    assert len(awareness) == 0
    assert awareness.tracked == 1  # kept to drop late echoes of the removal ...
    awareness.expire(now=40.0)
    assert awareness.tracked == 0  # ... then forgotten


def test_states_nobody_renews_expire_and_peers_are_told() -> None:
    awareness = RoomAwareness(CollabConfig(awareness_timeout_s=30))
    awareness.apply(_update((1, 1, {"x": 1}), (2, 1, {"x": 2})), connection_id=10, now=0.0)
    awareness.apply(_update((2, 2, {"x": 3})), connection_id=10, now=20.0)  # 2 renews
    removal = awareness.expire(now=31.0)
    assert removal is not None
    assert [(e.client_id, e.removed) for e in decode_awareness(removal)] == [(1, True)]
    assert len(awareness) == 1


def test_client_ids_cycled_by_one_peer_do_not_grow_memory() -> None:
    config = CollabConfig(awareness_max_room_states=16)
    awareness = RoomAwareness(config)
    for client in range(1, 2000):
        awareness.apply(_update((client, 1, {"x": 1})), connection_id=10)
        awareness.apply(_update((client, 2, None)), connection_id=10)
    assert awareness.tracked <= 2 * config.awareness_max_room_states


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_update(*[(i, 1, {}) for i in range(1, 600)]), "entries"),
        (_update((1, 1, {"blob": "x" * 20_000})), "over"),
        (encode_awareness([AwarenessEntry(1, 1, "[" * 5000 + "]" * 5000)]), "nested"),
        (encode_awareness([AwarenessEntry(1, 1, "{not json")]), "not valid JSON"),
        (_update(*[(i, 1, {}) for i in range(1, 10)]), "client ids"),
    ],
)
def test_oversized_or_malformed_presence_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        RoomAwareness().apply(payload, connection_id=10)


def test_a_full_room_drops_new_states_but_keeps_serving() -> None:
    awareness = RoomAwareness(CollabConfig(awareness_max_room_states=3))
    for connection in range(4):
        awareness.apply(_update((100 + connection, 1, {"n": connection})), connection_id=connection)
    assert len(awareness) == 3
    assert awareness.counters.over_room_cap == 1


# ---------------------------------------------------------------------------- end to end


async def _socket(
    world: CollabWorld, token: str, project_id: str | None = None
) -> ClientConnection:
    return await connect(f"{world.url(project_id)}?token={token}", max_size=None)


async def _close_code(ws: ClientConnection) -> int:
    with anyio.fail_after(TIMEOUT_S):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    assert ws.close_code is not None
    return ws.close_code


async def test_a_flood_of_client_ids_closes_only_its_sender(world: CollabWorld) -> None:
    """One 1.3 MB frame of 99,999 client ids stalled /healthz for 2.1 s; now it is refused
    before it is read, and a viewer's flood closes the viewer alone."""
    flooder = await _socket(world, world.viewer.access_token)
    bystander = await _socket(world, world.editor.access_token)
    entries = [AwarenessEntry(i, 1, '{"cursor":1}') for i in range(1, 100_000)]
    started = time.perf_counter()
    await flooder.send(awareness_message(encode_awareness(entries)))
    assert await _close_code(flooder) == 4400
    async with httpx.AsyncClient(base_url=world.server.base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
    elapsed = time.perf_counter() - started
    assert elapsed < 5  # generous: the point is that nothing parsed 99,999 entries
    await bystander.send(awareness_message(_update((7, 1, {"name": "still here"}))))
    await bystander.close()


async def test_deeply_nested_state_closes_with_4400_not_1006(world: CollabWorld) -> None:
    ws = await _socket(world, world.editor.access_token)
    state = "[" * 5000 + "]" * 5000
    await ws.send(awareness_message(encode_awareness([AwarenessEntry(1, 1, state)])))
    assert await _close_code(ws) == 4400


async def test_presence_over_the_budget_closes_with_4429(world: CollabWorld) -> None:
    ws = await _socket(world, world.editor.access_token)
    state = json.dumps({"pad": "x" * 15_000})
    with contextlib.suppress(ConnectionClosed):  # the server may close while we still send
        for clock in range(1, 400):  # ~6 MB, over the 2 MiB burst
            await ws.send(awareness_message(encode_awareness([AwarenessEntry(5, clock, state)])))
    assert await _close_code(ws) == 4429


async def test_late_joiners_get_only_live_bounded_states(world: CollabWorld) -> None:
    a = await _socket(world, world.editor.access_token)
    await a.send(awareness_message(_update((1, 1, {"name": "ada"}))))
    await a.send(awareness_message(_update((1, 2, {"name": "ada", "playhead_s": 12.5}))))
    b = await _socket(world, world.owner.access_token)
    with anyio.fail_after(TIMEOUT_S):
        while not isinstance(message := decode_message(bytes(await b.recv())), AwarenessMessage):
            pass
    entries = decode_awareness(message.payload)
    assert [(e.client_id, e.clock) for e in entries] == [(1, 2)]
    await a.close()
    await b.close()


async def test_echoes_do_not_count_against_the_budget_for_new_states(world: CollabWorld) -> None:
    """y-websocket 3 clients send back every state they receive; in a busy room that is
    more than one peer's own changes, and must not get it closed."""
    ws = await _socket(world, world.editor.access_token)
    echo = awareness_message(
        encode_awareness([AwarenessEntry(5, 1, json.dumps({"pad": "x" * 15_000}))])
    )
    for _ in range(300):  # ~4.5 MB: over the 2 MiB burst of new states, all but one echoes
        await ws.send(echo)
    await ws.send(bytes([3]))  # query awareness: answered while the socket lives
    with anyio.fail_after(TIMEOUT_S):
        while not isinstance(decode_message(bytes(await ws.recv())), AwarenessMessage):
            pass
    await ws.close()

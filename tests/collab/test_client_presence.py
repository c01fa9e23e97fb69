"""A Python peer's presence lives as long as the peer, however quiet it is."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import connect

from jacameno.collab.client import CollabClient
from jacameno.collab.protocol import AwarenessEntry, awareness_message, encode_awareness
from tests.collab.conftest import CollabWorld, world  # noqa: F401

TIMEOUT_S = 15
#: The awareness timeout the peers here run with (browsers: 30 s); renewals every half.
PRESENCE_TIMEOUT_S = 0.6


def _clock(watcher: CollabClient, client_id: int) -> int:
    """The newest clock ``watcher`` has seen for ``client_id``'s state."""
    return int(watcher.presence.awareness.meta[client_id]["clock"])


async def test_a_quiet_bot_stays_present_past_the_awareness_timeout(
    world: CollabWorld,  # noqa: F811
) -> None:
    async with (
        world.peer(awareness_timeout_s=PRESENCE_TIMEOUT_S) as bot,
        world.peer(world.owner, awareness_timeout_s=PRESENCE_TIMEOUT_S) as watcher,
    ):
        removed: list[int] = []

        def on_update(topic: str, event: tuple[dict[str, Any], Any]) -> None:
            if topic == "update":
                removed.extend(event[0]["removed"])

        watcher.presence.awareness.observe(on_update)
        with anyio.fail_after(TIMEOUT_S):
            await bot.wait_synced()
            await watcher.wait_synced()
            bot.set_awareness({"user": {"name": "bot"}})
            await watcher.wait_for(lambda: bot.client_id in watcher.awareness_states)
            first = _clock(watcher, bot.client_id)
            seen_at = time.monotonic()
            # The bot sends nothing else: each renewal comes at least half a timeout after
            # the last, so four of them span more than the timeout the watcher applies.
            await watcher.wait_for(lambda: _clock(watcher, bot.client_id) >= first + 4)
        assert time.monotonic() - seen_at > PRESENCE_TIMEOUT_S
        assert bot.client_id not in removed
        assert watcher.awareness_states[bot.client_id] == {"user": {"name": "bot"}}


async def test_a_state_nobody_renews_expires(world: CollabWorld) -> None:  # noqa: F811
    """The control for the test above: the watcher does drop a state that is not renewed."""
    async with world.peer(awareness_timeout_s=PRESENCE_TIMEOUT_S) as watcher:
        with anyio.fail_after(TIMEOUT_S):
            await watcher.wait_synced()
            url = f"{world.url()}?token={world.owner.access_token}"
            async with connect(url, compression=None) as ws:  # a peer that never renews
                entry = AwarenessEntry(777, 1, '{"user":{"name":"once"}}')
                await ws.send(awareness_message(encode_awareness([entry])))
                await watcher.wait_for(lambda: 777 in watcher.awareness_states)
                await watcher.wait_for(lambda: 777 not in watcher.awareness_states)


async def test_presence_comes_back_at_once_after_a_reconnect(
    world: CollabWorld,  # noqa: F811
) -> None:
    async with world.peer() as bot, world.peer(world.owner) as watcher:
        with anyio.fail_after(TIMEOUT_S):
            await bot.wait_synced()
            await watcher.wait_synced()
            bot.set_awareness({"user": {"name": "bot"}})
            await watcher.wait_for(lambda: bot.client_id in watcher.awareness_states)
            await bot.disconnect()
            await watcher.wait_for(lambda: bot.client_id not in watcher.awareness_states)
            assert bot.awareness_states == {}  # what it knew of others went with the socket
            bot.connect()
            # The server still holds the removal of the old socket's state at its clock;
            # the bot's state comes back with a newer one, not half a timeout later.
            await watcher.wait_for(lambda: bot.client_id in watcher.awareness_states)


def test_a_timeout_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        CollabClient("ws://127.0.0.1:9/collab/p", awareness_timeout_s=0)

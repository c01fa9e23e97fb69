"""Property: whatever bytes a client sends, only that client can be closed; the room serves on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from jacameno.api.db.migrate import upgrade
from jacameno.api.settings import load_settings
from jacameno.collab.channel import CloseCode
from jacameno.collab.protocol import SyncMessage, SyncType, decode_message, sync_step1, sync_update
from tests.support.app_server import RunningServer, serve_in_thread

MAX_MESSAGE = 65_536
TIMEOUT_S = 10


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str, str]]:
    import anyio

    root: Path = tmp_path_factory.mktemp("garbage")
    config = load_settings(
        env="test",
        data_dir=root,
        database_url=f"sqlite+aiosqlite:///{root / 'db.sqlite'}",
        storage_url=f"file://{root / 'storage'}",
        secret_key="g" * 40,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        rate_limits_enabled=False,
        log_level="WARNING",
        collab_max_message_bytes=MAX_MESSAGE,
    )
    anyio.run(upgrade, config.database_url)
    with serve_in_thread(config) as running:
        signup = httpx.post(
            f"{running.base_url}/api/v1/auth/signup",
            json={"email": "garbage@example.com", "password": "garbage in, garbage out"},
        )
        token = signup.json()["access_token"]
        project = httpx.post(
            f"{running.base_url}/api/v1/projects",
            json={"name": "fuzzed"},
            headers={"authorization": f"Bearer {token}"},
        )
        yield running, token, project.json()["id"]


def _open(room: tuple[RunningServer, str, str]) -> ClientConnection:
    running, token, project_id = room
    return connect(
        f"{running.ws_url}/collab/{project_id}?token={token}",
        compression=None,
        max_size=None,
        open_timeout=TIMEOUT_S,
    )


def _alive(ws: ClientConnection) -> bool:
    """Ask for a sync step 2; True if it comes, False if the server closed the socket."""
    try:
        ws.send(sync_step1(b"\x00"))
        while True:
            message = decode_message(ws.recv(timeout=TIMEOUT_S))  # type: ignore[arg-type]
            if isinstance(message, SyncMessage) and message.sync_type is SyncType.STEP2:
                return True
    except ConnectionClosed:
        return False


frames = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=64).map(lambda b: b"\x00" + b),
    st.binary(max_size=64).map(lambda b: b"\x00\x02" + b),
    st.binary(max_size=64).map(lambda b: b"\x01" + b),
    st.binary(max_size=64).map(lambda b: sync_update(b)),
    st.integers(min_value=MAX_MESSAGE + 1, max_value=MAX_MESSAGE * 2).map(lambda n: b"\x00" * n),
)


@given(frame=frames)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_garbage_closes_only_its_sender(room: tuple[RunningServer, str, str], frame: bytes) -> None:
    with _open(room) as healthy:
        assert _alive(healthy)
        with _open(room) as attacker:
            attacker.send(frame)
            if not _alive(attacker):
                assert attacker.close_code in (CloseCode.MALFORMED, CloseCode.MESSAGE_TOO_BIG)
        # The room still serves the peer that did nothing wrong, and new peers.
        assert _alive(healthy)
    with _open(room) as newcomer:
        assert _alive(newcomer)

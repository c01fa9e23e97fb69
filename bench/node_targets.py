"""Node servers besides the reference, as `collab_bench` targets.

    .venv/bin/python bench/collab_bench.py --target bench.node_targets:hocuspocus

`hocuspocus` runs ``bench/hocuspocus_server.mjs``: ``@hocuspocus/server`` with
the Database extension over y-leveldb in the run's work dir (persistence on,
as for the reference) and Hocuspocus's default store debounce. Its clients are
HocuspocusProviders (its protocol names the document in every message, so the
y-websocket provider cannot talk to it). It is a baseline: with the reference,
one of the Node servers the other targets' latency is judged against.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bench.collab_bench import RoomAccess, RunningTarget, Target
from tests.support.node_peer import INSTALL_HINT, NODE_MODULES, NodeToolingError, ReferenceServer

REPO_ROOT = Path(__file__).resolve().parents[1]
HOCUSPOCUS_SCRIPT = REPO_ROOT / "bench" / "hocuspocus_server.mjs"


def hocuspocus() -> Target:
    """``@hocuspocus/server`` with y-leveldb persistence, reached by HocuspocusProviders."""

    @asynccontextmanager
    async def start(workdir: Path) -> AsyncIterator[RunningTarget]:
        if not (NODE_MODULES / "@hocuspocus" / "server" / "package.json").is_file():
            raise NodeToolingError(f"{NODE_MODULES} lacks @hocuspocus/server: {INSTALL_HINT}")
        server = ReferenceServer(script=HOCUSPOCUS_SCRIPT, persistence_dir=workdir / "leveldb")
        async with server:

            async def rooms(names: Sequence[str]) -> list[RoomAccess]:
                # Hocuspocus creates a document on its first connection, as the reference does.
                return [RoomAccess(name) for name in names]

            yield RunningTarget(
                url=server.url, pid=server.pid, prepare_rooms=rooms, client="hocuspocus"
            )

    return Target("hocuspocus", start, baseline=True)

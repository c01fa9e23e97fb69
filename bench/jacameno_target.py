"""The JACAMENO server as a `collab_bench` target: ``jacameno serve`` in its own process.

    .venv/bin/python bench/collab_bench.py --target bench.jacameno_target:jacameno

Persistence is on (SQLite in the run's work dir, WAL, group commit), as in the
embedded default. Rate limits are off because the load generator opens
hundreds of sockets from one address.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx

from bench.collab_bench import RoomAccess, RunningTarget, Target
from tests.support.node_peer import free_tcp_port

REPO_ROOT = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def serve_jacameno(
    workdir: Path,
    *,
    deflate: bool = False,
    repo: Path = REPO_ROOT,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[str, int]]:
    """``jacameno serve`` of checkout ``repo`` on SQLite under ``workdir``, until the block
    exits; yields its base URL and PID. ``BENCH_SERVER_LOG`` names a file for its log."""
    port = free_tcp_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    env.update(
        {
            "JACAMENO_ENV": "development",
            "JACAMENO_DATA_DIR": str(workdir / "var"),
            "JACAMENO_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'var' / 'bench.db'}",
            "JACAMENO_STORAGE_URL": f"file://{workdir / 'var' / 'storage'}",
            "JACAMENO_ARGON2_TIME_COST": "1",
            "JACAMENO_ARGON2_MEMORY_KIB": "64",
            "JACAMENO_RATE_LIMITS_ENABLED": "false",
            "JACAMENO_ACCESS_TOKEN_TTL_S": "7200",
            "JACAMENO_LOG_LEVEL": "WARNING",
            "JACAMENO_COLLAB_WS_DEFLATE": "true" if deflate else "false",
            "PYTHONPATH": str(repo),
            **(extra_env or {}),
        }
    )
    log_path = os.environ.get("BENCH_SERVER_LOG")  # to read the server's stalls afterwards
    log = Path(log_path).open("ab") if log_path else subprocess.DEVNULL  # noqa: SIM115, ASYNC230
    process = await anyio.open_process(
        [sys.executable, "-m", "jacameno.api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=log,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            with anyio.fail_after(60):
                while True:
                    if process.returncode is not None:
                        raise RuntimeError("jacameno serve exited during start-up")
                    try:
                        if (await http.get(f"{base_url}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await anyio.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(30, shield=True):
            await process.wait()
        if process.returncode is None:
            process.kill()
            with anyio.CancelScope(shield=True):
                await process.wait()


def _target(name: str, *, deflate: bool, repo: Path = REPO_ROOT) -> Target:
    @asynccontextmanager
    async def start(workdir: Path) -> AsyncIterator[RunningTarget]:
        async with serve_jacameno(workdir, deflate=deflate, repo=repo) as (base_url, pid):
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                signup = await http.post(
                    "/api/v1/auth/signup",
                    json={"email": "bench@example.com", "password": "benchmark password"},
                )
                signup.raise_for_status()
                token = signup.json()["access_token"]

            async def rooms(names: Sequence[str]) -> list[RoomAccess]:
                access = []
                async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                    for room in names:
                        created = await http.post(
                            "/api/v1/projects",
                            json={"name": room},
                            headers={"authorization": f"Bearer {token}"},
                        )
                        created.raise_for_status()
                        access.append(RoomAccess(created.json()["id"], {"token": token}))
                return access

            yield RunningTarget(
                url=base_url.replace("http://", "ws://") + "/collab", pid=pid, prepare_rooms=rooms
            )

    return Target(name, start)


def jacameno() -> Target:
    """Our server as shipped (permessage-deflate off on collaboration sockets)."""
    return _target("jacameno", deflate=False)


def jacameno_deflate() -> Target:
    """Our server with permessage-deflate negotiated, for comparison."""
    return _target("jacameno-deflate", deflate=True)


def jacameno_other_checkout() -> Target:
    """Our server from another checkout (``JACAMENO_BENCH_OTHER_REPO``, e.g. an older
    commit in a git worktree), to compare two versions in one run."""
    repo = Path(os.environ["JACAMENO_BENCH_OTHER_REPO"]).resolve()
    return _target(f"jacameno@{repo.name}", deflate=False, repo=repo)

"""Several ``jacameno serve`` processes sharing one database, one Redis and one storage dir.

`Cluster` starts N real ``serve`` processes (so that one can be SIGKILLed) on free
loopback ports, all on one PostgreSQL database URL, one Redis URL, one storage
directory and one secret key (a token issued by one instance is good on every
other). Each process logs to ``<workdir>/serve-<i>.log`` (appended across restarts);
a failing wait quotes its tail.

    async with Cluster(tmp_path, postgres_url, redis_url, count=3) as cluster:
        cluster[0].base_url, cluster[1].ws_url ...
        cluster.kill(1)              # SIGKILL, waits for the process to be gone
        await cluster.restart(1)     # same port, waits until /readyz answers 200

Leaving the block stops every process still running (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
import httpx

from tests.support.app_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Seconds a process gets to answer ``/readyz`` with 200 after it was started.
START_TIMEOUT_S = 60.0
#: Seconds a process gets to stop after SIGTERM before it is killed.
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 60
SERVE = (sys.executable, "-m", "jacameno.api.cli", "serve")
SECRET_KEY = "cluster-test-secret-" + "c" * 40


class ClusterError(Exception):
    """A process did not start, or exited when it should have been serving."""


@dataclass
class Instance:
    """One ``serve`` process slot: its port survives restarts."""

    index: int
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    pids: list[int] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])


class Cluster:
    """N ``jacameno serve`` processes on one database, one Redis and one storage dir."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        redis_url: str,
        *,
        count: int = 3,
        env: dict[str, str] | None = None,
        migrate: bool = True,
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.redis_url = redis_url
        self.extra_env = dict(env or {})
        self.migrate = migrate
        workdir.mkdir(parents=True, exist_ok=True)
        self.instances = [
            Instance(i, free_port(), workdir / f"serve-{i}.log") for i in range(count)
        ]

    def __getitem__(self, index: int) -> Instance:
        return self.instances[index]

    def __len__(self) -> int:
        return len(self.instances)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            self.stop_all()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    async def start(self) -> None:
        """Bring the schema to head, start every process and wait until all are ready."""
        if self.migrate:
            from jacameno.api.db.migrate import upgrade

            await upgrade(self.database_url)
        for instance in self.instances:
            self._spawn(instance)
        async with anyio.create_task_group() as group:
            for instance in self.instances:
                group.start_soon(self.wait_ready, instance.index)

    def env(self, instance: Instance) -> dict[str, str]:
        """The environment of one process (no JACAMENO_* variable leaks in from ours)."""
        data = self.workdir / "var"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
        env.update(
            {
                "JACAMENO_ENV": "test",
                "JACAMENO_DATA_DIR": str(data),
                "JACAMENO_DATABASE_URL": self.database_url,
                "JACAMENO_REDIS_URL": self.redis_url,
                "JACAMENO_STORAGE_URL": f"file://{data / 'storage'}",
                "JACAMENO_LANCEDB_URI": str(data / "memory"),
                "JACAMENO_SECRET_KEY": SECRET_KEY,
                # The schema is migrated once, by the harness, as in a deployment.
                "JACAMENO_AUTO_MIGRATE": "false",
                # The API alone: a built web client would answer unknown paths with its page.
                "JACAMENO_WEB_DIST": str(self.workdir / "no-web-client"),
                "JACAMENO_PUBLIC_URL": instance.base_url,
                # Cheap password hashing and no rate limits (tests/collab/conftest.py FAST).
                "JACAMENO_ARGON2_TIME_COST": "1",
                "JACAMENO_ARGON2_MEMORY_KIB": "64",
                "JACAMENO_RATE_LIMITS_ENABLED": "false",
                "JACAMENO_LOG_FORMAT": "console",
                "JACAMENO_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(REPO_ROOT),
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, instance: Instance) -> None:
        if instance.running:
            raise ClusterError(f"instance {instance.index} is already running")
        instance.starts += 1
        with instance.log_path.open("ab") as log:
            log.write(
                f"\n===== start {instance.starts} of instance {instance.index} "
                f"on port {instance.port} =====\n".encode()
            )
            log.flush()
            instance.process = subprocess.Popen(
                [*SERVE, "--host", "127.0.0.1", "--port", str(instance.port)],
                cwd=self.workdir,
                env=self.env(instance),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        instance.pids.append(instance.process.pid)

    async def wait_ready(self, index: int, *, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until instance ``index`` answers ``/readyz`` with 200 (fails early if its
        process exits)."""
        instance = self.instances[index]
        process = instance.process
        if process is None:
            raise ClusterError(f"instance {index} was never started")
        last = "no answer yet"
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                if process.poll() is not None:
                    raise ClusterError(
                        f"instance {index} exited with {process.returncode} while starting:\n"
                        + instance.log_tail()
                    )
                try:
                    answer = await http.get(f"{instance.base_url}/readyz")
                    if answer.status_code == 200:
                        return
                    last = f"{answer.status_code} {answer.text[:300]}"
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"instance {index} not ready within {timeout_s:.0f} s ({last}):\n"
                        + instance.log_tail()
                    )
                await anyio.sleep(0.05)  # a starting process has no event to wait on

    def kill(self, index: int) -> None:
        """SIGKILL instance ``index`` and reap it: no shutdown code runs."""
        instance = self.instances[index]
        process = instance.process
        if process is None or process.poll() is not None:
            raise ClusterError(f"instance {index} is not running")
        process.send_signal(signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)

    async def restart(self, index: int) -> None:
        """Start instance ``index`` again on its port (it must have stopped) and wait
        until it is ready."""
        self._spawn(self.instances[index])
        await self.wait_ready(index)

    def stop(self, index: int) -> None:
        """SIGTERM instance ``index`` (SIGKILL after :data:`STOP_TIMEOUT_S`)."""
        process = self.instances[index].process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            _reap(process)

    def stop_all(self) -> None:
        """Stop every process still running: SIGTERM to all first, then wait for each."""
        running = [i.process for i in self.instances if i.running and i.process is not None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            _reap(process)


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait for a process told to stop; SIGKILL it after :data:`STOP_TIMEOUT_S`."""
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

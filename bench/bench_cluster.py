"""Issue #14: one project spread over three ``jacameno serve`` processes (Redis relay).

    .venv/bin/python bench/bench_cluster.py            # ~3-5 min on a 2-core machine
    .venv/bin/python bench/bench_cluster.py --quick    # shorter windows, a smoke run

Starts three ``jacameno serve`` processes (A, B, C) on one fresh PostgreSQL database
and one Redis db (rate limits off, cheap Argon2 for the sign-up), migrates first, and
creates the account and projects over HTTP. Then, in one run:

1. Fan-out latency, cross-instance (the writer on A, its readers on B and C) beside
   same-instance (writer and readers all on A), at 50 rooms x 4 clients (one writer per
   room) and at 1 room x 100 clients (one writer); lost deliveries are counted after a
   settle wait and must be zero.
2. Throughput of one project: three writers and three readers, two clients per
   instance over A, B and C, against the same six clients all on A. The offered update
   rate steps up until p99 delivery latency reaches 100 ms (or a delivery is lost, or
   the load generator falls behind what it offers); a failed step is tried once more
   (one stall should not decide it), and the figure is the highest rate that passed.

Each set of clients first writes a few unmeasured updates (rooms loaded, paths warm).
The servers unload empty rooms after 1 s (JACAMENO_COLLAB_ROOM_GRACE_S) so that one
scenario's rooms are gone before the next starts.

Clients are Python peers (``jacameno.collab.client.CollabClient``, pycrdt over
``websockets``), all in this process so send and receive times come from one clock:
bench/collab_load.mjs opens every client on one URL and cannot spread a room over
several servers. The load generator shares the two cores with the three servers, so
its own event-loop lag is reported beside each figure. A table goes to stdout, every
raw figure to var/bench-cluster.json.

Environment: ``BENCH_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
used to create and drop ``bench_cluster_<random>``) and ``BENCH_REDIS_URL`` (default
``redis://127.0.0.1:6379/13``, flushed at the start and end).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
import pycrdt

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(REPO_ROOT))

from bench.collab_bench import sample_process  # noqa: E402
from bench.jacameno_target import serve_jacameno  # noqa: E402
from jacameno.collab.client import CollabClient  # noqa: E402

JSON_OUT = REPO_ROOT / "var" / "bench-cluster.json"
PG_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
INSTANCES = ("A", "B", "C")
P99_BUDGET_MS = 100.0
ROOM_GRACE_S = 1.0
PAYLOAD = "x" * 16
CLIENT_KIND = "python CollabClient (jacameno.collab.client, pycrdt + websockets)"


# --------------------------------------------------------------- infrastructure


async def create_database() -> tuple[str, str]:
    """A fresh database on the server of `PG_DSN`: its name and asyncpg-style URL."""
    import asyncpg

    name = f"bench_cluster_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(PG_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    parts = urlsplit(PG_DSN)
    return name, urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", "", ""))


async def drop_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def flush_redis() -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def server_env(database_url: str, shared: Path) -> dict[str, str]:
    """What every instance shares: database, Redis, signing secret, storage."""
    return {
        "JACAMENO_DATABASE_URL": database_url,
        "JACAMENO_REDIS_URL": REDIS_URL,
        "JACAMENO_SECRET_KEY": secrets.token_urlsafe(48),
        "JACAMENO_STORAGE_URL": f"file://{shared / 'storage'}",
        "JACAMENO_JOB_WARM_UP": "false",
        # Rooms a finished scenario left empty unload (flush, leave the relay) within the
        # pause between scenarios instead of ten seconds into the next one.
        "JACAMENO_COLLAB_ROOM_GRACE_S": str(ROOM_GRACE_S),
    }


def migrate(extra_env: dict[str, str], workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    env.update(
        {
            "JACAMENO_DATA_DIR": str(workdir / "var"),
            "JACAMENO_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO_ROOT),
            **extra_env,
        }
    )
    subprocess.run(
        [sys.executable, "-m", "jacameno.api.cli", "db", "upgrade"],
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass
class Cluster:
    urls: list[str]  # base http:// URL per instance, A first
    pids: list[int]
    token: str = ""

    async def create_projects(self, count: int, label: str) -> list[str]:
        ids = []
        async with httpx.AsyncClient(base_url=self.urls[0], timeout=60) as http:
            for i in range(count):
                created = await http.post(
                    "/api/v1/projects",
                    json={"name": f"{label}-{i}"},
                    headers={"authorization": f"Bearer {self.token}"},
                )
                created.raise_for_status()
                ids.append(created.json()["id"])
        return ids

    def cpu_s(self) -> list[float]:
        return [sample_process(pid).cpu_s for pid in self.pids]


@asynccontextmanager
async def cluster(workdir: Path, extra_env: dict[str, str]) -> AsyncIterator[Cluster]:
    async with AsyncExitStack() as stack:
        started = []
        for name in INSTANCES:
            instance_dir = workdir / name
            instance_dir.mkdir()
            started.append(
                await stack.enter_async_context(serve_jacameno(instance_dir, extra_env=extra_env))
            )
        running = Cluster([url for url, _ in started], [pid for _, pid in started])
        async with httpx.AsyncClient(base_url=running.urls[0], timeout=60) as http:
            signup = await http.post(
                "/api/v1/auth/signup",
                json={"email": "bench@example.com", "password": "benchmark password"},
            )
            signup.raise_for_status()
            running.token = signup.json()["access_token"]
        yield running


# --------------------------------------------------------------- peers and measuring


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """Nearest-rank percentiles, as collab_load.mjs computes them."""
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 3)

    return {
        "count": len(ordered),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": round(ordered[-1], 3),
    }


@dataclass
class Phase:
    """One write window: what its deliveries measured."""

    expected: int = 0
    received: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)

    def deliver(self, latency_ms: float) -> None:
        self.latencies_ms.append(latency_ms)
        self.received += 1
        if self.received >= self.expected:
            self.done.set()


@dataclass
class Peer:
    client: CollabClient
    room: int
    instance: int
    writer_id: int | None  # global writer number, None for a pure reader


class Load:
    """Peers over several rooms, each placed on an instance; writers write timed entries.

    Every entry ``"{phase}:{writer}:{seq}"`` of the shared map "bench" holds its send
    time; every other peer of the room records its arrival (same process, one clock).
    """

    def __init__(self) -> None:
        self.peers: list[Peer] = []
        self.phases: dict[int, Phase] = {}
        self._subscriptions: list[Any] = []

    async def open(
        self,
        group: Any,
        cluster: Cluster,
        project_ids: Sequence[str],
        placements: Sequence[int],
        writers: Sequence[int],
    ) -> float:
        """Peers ``placements[i]`` (an instance index) in every room; clients ``writers``
        of each room write. Returns the seconds until all are synced."""
        started = time.perf_counter()
        next_writer = 0
        for room, project_id in enumerate(project_ids):
            for index, instance in enumerate(placements):
                client = CollabClient.for_project(
                    cluster.urls[instance], project_id, cluster.token, reconnect=False
                )
                writer_id = None
                if index in writers:
                    writer_id, next_writer = next_writer, next_writer + 1
                peer = Peer(client, room, instance, writer_id)
                self._observe(peer)
                self.peers.append(peer)
        for batch in range(0, len(self.peers), 50):  # no connect storm on two cores
            chunk = self.peers[batch : batch + 50]
            for peer in chunk:
                await group.start(peer.client.run)
            with anyio.fail_after(60):
                for peer in chunk:
                    await peer.client.wait_synced()
        return time.perf_counter() - started

    def _observe(self, peer: Peer) -> None:
        entries = peer.client.doc.get("bench", type=pycrdt.Map)
        own = f":{peer.writer_id}:" if peer.writer_id is not None else None

        def on_change(event: Any) -> None:
            at = time.perf_counter()
            for key, change in event.keys.items():
                if change.get("action") != "add" or (own is not None and own in key):
                    continue
                value = change.get("newValue")
                phase = self.phases.get(int(key.partition(":")[0]))
                if phase is not None and isinstance(value, dict):
                    phase.deliver((at - value["t"]) * 1000)

        self._subscriptions.append(entries.observe(on_change))

    async def close(self) -> None:
        for peer in self.peers:
            await peer.client.stop()

    async def run_phase(
        self,
        phase_id: int,
        *,
        rate_hz_per_writer: float,
        updates_per_writer: int,
        settle_s: float,
        cluster: Cluster,
    ) -> dict[str, Any]:
        """Every writer writes ``updates_per_writer`` entries at its rate; wait for every
        delivery (at most ``settle_s`` after the last write) and report."""
        writers = [peer for peer in self.peers if peer.writer_id is not None]
        room_sizes: dict[int, int] = {}
        for peer in self.peers:
            room_sizes[peer.room] = room_sizes.get(peer.room, 0) + 1
        phase = Phase()
        phase.expected = sum(updates_per_writer * (room_sizes[w.room] - 1) for w in writers)
        self.phases[phase_id] = phase
        period = 1 / rate_hz_per_writer
        lags: list[float] = []
        stop_lag = anyio.Event()
        cpu_before = cluster.cpu_s()

        async def lag_monitor() -> None:
            while not stop_lag.is_set():
                before = time.perf_counter()
                await anyio.sleep(0.005)
                lags.append((time.perf_counter() - before - 0.005) * 1000)

        async def write(peer: Peer, offset: float, start: float) -> None:
            entries = peer.client.doc.get("bench", type=pycrdt.Map)
            for seq in range(updates_per_writer):
                delay = start + offset + seq * period - time.perf_counter()
                if delay > 0:
                    await anyio.sleep(delay)
                entries[f"{phase_id}:{peer.writer_id}:{seq}"] = {
                    "t": time.perf_counter(),
                    "p": PAYLOAD,
                }

        async with anyio.create_task_group() as group:
            group.start_soon(lag_monitor)
            start = time.perf_counter() + 0.05
            async with anyio.create_task_group() as writing:
                for n, peer in enumerate(writers):
                    writing.start_soon(write, peer, n * period / len(writers), start)
            write_s = time.perf_counter() - start
            settle_start = time.perf_counter()
            with anyio.move_on_after(settle_s):
                await phase.done.wait()
            settle_s_taken = time.perf_counter() - settle_start
            stop_lag.set()
        cpu_after = cluster.cpu_s()
        sent = updates_per_writer * len(writers)
        latency = percentiles(phase.latencies_ms)
        converged = self._converged_rooms(phase_id, updates_per_writer, len(writers))
        del self.phases[phase_id]
        return {
            "writers": len(writers),
            "clients": len(self.peers),
            "updates_sent": sent,
            "offered_rate_per_s": round(rate_hz_per_writer * len(writers), 1),
            "achieved_rate_per_s": round(sent / write_s, 1) if write_s > 0 else None,
            "write_s": round(write_s, 3),
            "settle_s": round(settle_s_taken, 3),
            "expected_deliveries": phase.expected,
            "deliveries": phase.received,
            "lost": max(0, phase.expected - phase.received),
            "latency_ms": latency,
            "converged_rooms": converged,
            "rooms": len(room_sizes),
            "loadgen_lag_ms": percentiles(lags),
            "server_cpu_s": [round(b - a, 3) for a, b in zip(cpu_before, cpu_after, strict=True)],
        }

    def _converged_rooms(self, phase_id: int, per_writer: int, writers: int) -> int:
        """Rooms whose every peer holds every entry its room's writers wrote this phase."""
        prefix = f"{phase_id}:"
        rooms_writers: dict[int, int] = {}
        for peer in self.peers:
            if peer.writer_id is not None:
                rooms_writers[peer.room] = rooms_writers.get(peer.room, 0) + 1
        complete: dict[int, bool] = {}
        for peer in self.peers:
            entries = peer.client.doc.get("bench", type=pycrdt.Map)
            count = sum(1 for key in entries.keys() if key.startswith(prefix))  # noqa: SIM118
            ok = count == rooms_writers.get(peer.room, 0) * per_writer
            complete[peer.room] = complete.get(peer.room, True) and ok
        return sum(complete.values())


@asynccontextmanager
async def load(
    cluster: Cluster, project_ids: Sequence[str], placements: Sequence[int], writers: Sequence[int]
) -> AsyncIterator[tuple[Load, float]]:
    async with anyio.create_task_group() as group:
        peers = Load()
        try:
            connect_s = await peers.open(group, cluster, project_ids, placements, writers)
            await anyio.sleep(1.0)  # the join burst (presence) passes first
            # Not measured: the first writes load the rooms' logs and warm every path.
            await peers.run_phase(
                0, rate_hz_per_writer=5, updates_per_writer=5, settle_s=5, cluster=cluster
            )
            yield peers, connect_s
        finally:
            await peers.close()
    await anyio.sleep(ROOM_GRACE_S + 1.5)  # the servers unload the emptied rooms


# --------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class FanoutShape:
    name: str
    rooms: int
    clients: int
    rate_hz: float  # of the one writer per room
    description: str


def fanout_shapes() -> list[FanoutShape]:
    return [
        FanoutShape(
            "fanout_50x4", 50, 4, 5.0, "50 rooms x 4 clients, 1 writer per room at 5 updates/s"
        ),
        FanoutShape("fanout_1x100", 1, 100, 20.0, "1 room x 100 clients, 1 writer at 20 updates/s"),
    ]


def placements_for(layout: str, clients: int) -> list[int]:
    """Instance of each client; client 0 (the writer) is on A."""
    if layout == "same":
        return [0] * clients
    return [0] + [1 + (i % 2) for i in range(clients - 1)]  # readers alternate B, C


async def run_fanout(
    cluster: Cluster, shape: FanoutShape, window_s: float, repeat: int
) -> dict[str, Any]:
    """Same and cross alternate (same, cross, cross, same, ...): drift hits both alike.
    Figures are medians over the repeats; lost deliveries are summed."""
    out: dict[str, Any] = {"description": shape.description}
    updates = max(1, round(shape.rate_hz * window_s))
    runs: dict[str, list[dict[str, Any]]] = {"same": [], "cross": []}
    for attempt in range(repeat):
        for layout in ("same", "cross") if attempt % 2 == 0 else ("cross", "same"):
            print(
                f"[bench-cluster] {shape.name} {layout} ({attempt + 1}/{repeat}) ...",
                file=sys.stderr,
                flush=True,
            )
            projects = await cluster.create_projects(shape.rooms, f"{shape.name}-{layout}")
            placements = placements_for(layout, shape.clients)
            async with load(cluster, projects, placements, writers=[0]) as (peers, connect_s):
                result = await peers.run_phase(
                    1,
                    rate_hz_per_writer=shape.rate_hz,
                    updates_per_writer=updates,
                    settle_s=15,
                    cluster=cluster,
                )
            result["connect_s"] = round(connect_s, 3)
            result["placements"] = "".join(INSTANCES[i] for i in placements[:8]) + (
                "..." if len(placements) > 8 else ""
            )
            runs[layout].append(result)
    for layout, results in runs.items():
        out[layout] = {
            "latency_ms": {
                key: statistics.median(r["latency_ms"][key] for r in results)
                if all(r["latency_ms"][key] is not None for r in results)
                else None
                for key in ("p50", "p90", "p99", "max")
            },
            "lost": sum(r["lost"] for r in results),
            "deliveries": sum(r["deliveries"] for r in results),
            "expected_deliveries": sum(r["expected_deliveries"] for r in results),
            "converged_rooms": min(r["converged_rooms"] for r in results),
            "rooms": shape.rooms,
            "loadgen_lag_p99_ms": max(r["loadgen_lag_ms"]["p99"] or 0 for r in results),
            "runs": results,
        }
    same, cross = out["same"]["latency_ms"], out["cross"]["latency_ms"]
    out["cross_over_same"] = {
        key: round(cross[key] / same[key], 2) if same.get(key) and cross.get(key) else None
        for key in ("p50", "p99")
    }
    return out


THROUGHPUT_RATES = (30, 60, 120, 180, 240, 300, 400, 500, 650, 800, 1000, 1300, 1600, 2000)
THROUGHPUT_LAYOUTS = {"one": [0] * 6, "three": [0, 1, 2, 0, 1, 2]}


async def run_throughput(cluster: Cluster, window_s: float, rates: Sequence[int]) -> dict[str, Any]:
    """One project, 6 clients (3 writing) on A alone and, another project, on A, B and C.
    Both sets stay connected; at each offered rate one steps, then the other, so drift in
    the machine's load hits both alike. Each goes up until its p99 reaches 100 ms."""
    writers = [0, 1, 2]
    out: dict[str, Any] = {}
    async with AsyncExitStack() as stack:
        loads: dict[str, Load] = {}
        for layout, placements in THROUGHPUT_LAYOUTS.items():
            projects = await cluster.create_projects(1, f"throughput-{layout}")
            loads[layout], _ = await stack.enter_async_context(
                load(cluster, projects, placements, writers)
            )
            out[layout] = {
                "placements": "".join(INSTANCES[i] for i in placements),
                "writers": len(writers),
                "max_rate_p99_under_100ms": None,
                "limited_by": None,
                "steps": [],
            }
        phase_ids = dict.fromkeys(loads, 0)
        for n, rate in enumerate(rates):
            active = [layout for layout in loads if out[layout]["limited_by"] is None]
            if n % 2:
                active.reverse()
            for layout in active:
                result = out[layout]
                for attempt in range(2):
                    # One stall (a compaction, the generator's GC) can fail a step: try again.
                    phase_ids[layout] += 1
                    step = await _throughput_step(
                        loads[layout], cluster, rate, len(writers), window_s, phase_ids[layout]
                    )
                    step["retry"] = attempt > 0
                    result["steps"].append(step)
                    if step["passed"]:
                        break
                if step["passed"]:
                    result["max_rate_p99_under_100ms"] = rate
                else:
                    result["limited_by"] = step["why_not"]
    for result in out.values():
        # Not the server's limit when the ladder ran out or the generator could not keep up.
        result["lower_bound"] = result["limited_by"] is None or "generator" in result["limited_by"]
    return out


async def _throughput_step(
    peers: Load, cluster: Cluster, rate: int, writers: int, window_s: float, phase_id: int
) -> dict[str, Any]:
    per_writer = rate / writers
    where = "".join(sorted({INSTANCES[peer.instance] for peer in peers.peers}))
    print(
        f"[bench-cluster] throughput on {where} at {rate} updates/s ...",
        file=sys.stderr,
        flush=True,
    )
    step = await peers.run_phase(
        phase_id,
        rate_hz_per_writer=per_writer,
        updates_per_writer=max(1, round(per_writer * window_s)),
        settle_s=5,
        cluster=cluster,
    )
    p99 = step["latency_ms"]["p99"]
    kept_up = (step["achieved_rate_per_s"] or 0) >= 0.9 * rate
    step["passed"] = p99 is not None and p99 < P99_BUDGET_MS and step["lost"] == 0 and kept_up
    if not kept_up:
        step["why_not"] = "load generator fell behind the offered rate"
    elif step["lost"]:
        step["why_not"] = f"{step['lost']} deliveries lost"
    elif not step["passed"]:
        step["why_not"] = f"p99 {p99} ms >= {P99_BUDGET_MS} ms"
    await anyio.sleep(0.5)
    return step


# --------------------------------------------------------------- report


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render(report: dict[str, Any]) -> str:
    lines = [
        f"clients: {report['clients']}",
        f"instances: 3 x jacameno serve on PostgreSQL + Redis; {report['machine']['cpus']} CPUs;"
        f" {report['note']}",
        "machine load average (1 min) at start / end: "
        f"{report['machine']['load_average_start'][0]:.1f} / "
        f"{report['machine']['load_average_end'][0]:.1f} (other work shares these cores)",
        "",
    ]
    header = (
        f"{'fan-out':<14}{'layout':<7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'deliveries':>12}{'lost':>6}{'conv':>7}{'gen lag p99':>12}"
    )
    lines += [header, "-" * len(header)]
    for name, shape in report["fanout"].items():
        for layout in ("same", "cross"):
            r = shape[layout]
            lat = r["latency_ms"]
            lines.append(
                f"{name:<14}{layout:<7}{fmt(lat['p50']):>8}{fmt(lat['p99']):>8}"
                f"{fmt(lat['max']):>8}{r['deliveries']:>12}{r['lost']:>6}"
                f"{r['converged_rooms']:>4}/{r['rooms']:<2}{fmt(r['loadgen_lag_p99_ms']):>12}"
            )
        ratio = shape["cross_over_same"]
        lines.append(
            f"{'':<14}cross/same: p50 x{fmt(ratio['p50'], 2)}, p99 x{fmt(ratio['p99'], 2)}"
        )
    lines += ["", "throughput, one project (6 clients, 3 writers), p99 budget 100 ms:"]
    for layout, label in (("one", "1 instance (AAAAAA)"), ("three", "3 instances (ABCABC)")):
        t = report["throughput"][layout]
        steps = ", ".join(
            f"{s['offered_rate_per_s']:.0f}/s p99 {fmt(s['latency_ms']['p99'])}"
            + ("" if s["passed"] else " FAIL")
            + (" (retry)" if s.get("retry") else "")
            for s in t["steps"]
        )
        lines.append(
            f"  {label:<22} max {'>= ' if t['lower_bound'] else ''}"
            f"{fmt(t['max_rate_p99_under_100ms'])} updates/s"
            f"  (stopped: {t['limited_by'] or 'top rate reached'})"
        )
        lines.append(f"      steps: {steps}")
    lines.append(
        "  3-instance / 1-instance throughput: "
        + ("<= " if report["throughput"]["one"]["lower_bound"] else "")
        + f"x{fmt(report['throughput']['three_over_one'], 2)}"
    )
    return "\n".join(lines)


async def run(quick: bool) -> dict[str, Any]:
    window_s = 4.0 if quick else 6.0
    repeat = 1 if quick else 2
    step_window_s = 2.0 if quick else 3.0
    rates = THROUGHPUT_RATES[:5] if quick else THROUGHPUT_RATES
    report: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": quick,
        "clients": CLIENT_KIND,
        "note": (
            f"fan-out: {repeat} run(s) per layout (medians), {window_s:.0f} s windows;"
            f" throughput: one pass, {step_window_s:.0f} s steps (short, to fit ~5 min on 2 cores)"
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_start": os.getloadavg(),
            "python": platform.python_version(),
        },
        "redis": REDIS_URL,
    }
    try:
        db_name, database_url = await create_database()
        await flush_redis()
    except Exception as exc:
        raise SystemExit(
            f"bench_cluster cannot run: PostgreSQL ({PG_DSN}) and Redis ({REDIS_URL}) must be"
            f" up (BENCH_PG_DSN, BENCH_REDIS_URL): {type(exc).__name__}: {exc}"
        ) from exc
    report["database"] = db_name
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
            workdir = Path(tmp)
            extra_env = server_env(database_url, workdir)
            await anyio.to_thread.run_sync(migrate, extra_env, workdir)
            async with cluster(workdir, extra_env) as running:
                report["fanout"] = {}
                for shape in fanout_shapes():
                    report["fanout"][shape.name] = await run_fanout(
                        running, shape, window_s, repeat
                    )
                report["throughput"] = await run_throughput(running, step_window_s, rates)
    finally:
        with anyio.CancelScope(shield=True):
            await flush_redis()
            await drop_database(db_name)
    one = report["throughput"]["one"]["max_rate_p99_under_100ms"]
    three = report["throughput"]["three"]["max_rate_p99_under_100ms"]
    report["throughput"]["three_over_one"] = round(three / one, 2) if one and three else None
    report["lost_deliveries_total"] = sum(
        shape[layout]["lost"] for shape in report["fanout"].values() for layout in ("same", "cross")
    )
    report["machine"]["load_average_end"] = os.getloadavg()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows, fewer steps")
    parser.add_argument("--json-out", type=Path, default=JSON_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = anyio.run(run, args.quick)
    report["run_s"] = round(time.perf_counter() - started, 1)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"run took {report['run_s']} s; JSON in {args.json_out}")
    if report["lost_deliveries_total"]:
        print(f"LOST DELIVERIES: {report['lost_deliveries_total']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One client's burst must not stall anyone else: 50,000 separate edits in one room.

Usage (from the repository root):

    .venv/bin/python bench/bench_burst.py [--edits 50000] [--repo PATH --repo PATH ...]

It starts ``jacameno serve`` (SQLite, embedded defaults) in its own process for
each checkout given (default: this one; pass an older checkout too to compare
in the same run), then:

1. measures an idle baseline for 5 s: ``/healthz`` round trips every 20 ms, and
   the fan-out latency of a second room (a writer sends an edit every 50 ms, a
   reader times its arrival);
2. a separate process sends 50,000 separate edits (an offline backlog: typing and
   map entries, ~740 KB of document) to the first room as fast as the server takes them, while the
   same probes run, through the compactions that follow, until the room's log
   is compacted and the burst's last edit has reached a reader;
3. opens a fresh client of the big document and times connect -> synced.

Figures: worst and p99 ``/healthz``, fan-out p50/p99/worst in the other room,
each also as a ratio to the idle baseline of the same run, and the fresh sync
time. Targets (issue 11): worst ``/healthz`` under 100 ms, other-room fan-out
p99 under 50 ms during compaction, fresh sync under 1 s. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pycrdt
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.jacameno_target import serve_jacameno  # noqa: E402
from jacameno.collab.protocol import (  # noqa: E402
    SyncMessage,
    SyncType,
    decode_message,
    decode_state_vector,
    sync_step1,
    sync_update,
)

PASSWORD = "benchmark password"
IDLE_S = 5.0
HEALTH_EVERY_S = 0.02
FANOUT_EVERY_S = 0.05


# ------------------------------------------------------------------ the burst


def burst_updates(count: int, seed: int = 7) -> list[bytes]:
    """``count`` separate updates as an offline phone's backlog looks: typing into the
    lyrics with the cursor jumping now and then, and every fifth edit a new map entry
    (~740 KB of document for 50,000)."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=random.Random(seed).getrandbits(32))
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    text = doc.get("lyrics", type=pycrdt.Text)
    tracks = doc.get("tracks", type=pycrdt.Map)
    rng = random.Random(seed)
    cursor = length = 0
    for index in range(count):
        if index % 5 == 4:
            tracks[f"k{index}"] = f"value {index:012d}"
            continue
        if rng.random() < 0.05:
            cursor = rng.randint(0, length)
        text.insert(cursor, "words ")
        cursor += 6
        length += 6
    return updates


def write_frames(updates: list[bytes], path: Path) -> None:
    """The burst's frames in one file: each a 4-byte length, then the frame."""
    with path.open("wb") as file:
        for update in updates:
            frame = sync_update(update)
            file.write(len(frame).to_bytes(4, "big") + frame)


def read_frames(path: Path) -> list[bytes]:
    data = path.read_bytes()
    frames, offset = [], 0
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        frames.append(data[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return frames


async def send_burst(url: str, frames_path: Path) -> None:
    """The burster (its own process): every update a frame of its own, back to back."""
    frames = read_frames(frames_path)
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.recv()  # sync step 1: joined
        for frame in frames:
            await ws.send(frame)
        # The server never echoes to the sender: stay until the bench has seen it all.
        async for _ in ws:
            pass


# ------------------------------------------------------------------ the server


@asynccontextmanager
async def serve(repo: Path, workdir: Path) -> AsyncIterator[str]:
    """``jacameno serve`` of ``repo``, as the collaboration benchmark starts it."""
    extra = {"JACAMENO_JOB_WARM_UP": "false"}
    async with serve_jacameno(workdir, repo=repo, extra_env=extra) as (base_url, _pid):
        yield base_url


# ------------------------------------------------------------------ probes


class Probes:
    """``/healthz`` round trips and another room's fan-out latency, while ``active``."""

    def __init__(self) -> None:
        self.health_ms: list[float] = []
        self.fanout_ms: list[float] = []

    def reset(self) -> None:
        self.health_ms, self.fanout_ms = [], []

    async def health(self, base_url: str, stop: anyio.Event) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            while not stop.is_set():
                started = time.perf_counter()
                await http.get("/healthz")
                self.health_ms.append((time.perf_counter() - started) * 1000)
                await anyio.sleep(HEALTH_EVERY_S)

    async def fanout(
        self, writer: ClientConnection, reader: ClientConnection, stop: anyio.Event
    ) -> None:
        doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=random.getrandbits(32))
        updates: list[bytes] = []
        doc.observe(lambda event: updates.append(event.update))
        probe = doc.get("probe", type=pycrdt.Map)
        index = 0
        while not stop.is_set():
            probe[str(index)] = index
            frame = sync_update(updates.pop())
            started = time.perf_counter()
            await writer.send(frame)
            while True:  # the reader's next update frame is ours (nobody else writes there)
                message = decode_message(bytes(await reader.recv()))
                if isinstance(message, SyncMessage) and message.sync_type is SyncType.UPDATE:
                    break
            self.fanout_ms.append((time.perf_counter() - started) * 1000)
            index += 1
            await anyio.sleep(FANOUT_EVERY_S)


async def _joined(url: str) -> ClientConnection:
    ws = await connect(url, max_size=None, compression=None)
    await ws.recv()  # sync step 1
    await ws.send(sync_step1(b"\x00"))
    while True:  # our sync step 2
        message = decode_message(bytes(await ws.recv()))
        if isinstance(message, SyncMessage) and message.sync_type is SyncType.STEP2:
            return ws


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def _metric(http: httpx.AsyncClient, name: str) -> float:
    """A figure from ``/metrics``, or NaN from an older server that does not export it."""
    text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return float("nan")


async def _until_relayed(
    http: httpx.AsyncClient,
    watcher: ClientConnection,
    wanted_state: bytes,
    counted: tuple[float, int, Probes],
) -> None:
    """Until the server has written and relayed the whole burst: its accepted-updates
    counter says so (polled: applying 50,000 relayed edits here would delay the probes
    of this process), or, from a server without it, the watcher holds ``wanted_state``."""
    before, edits, probes = counted
    if before == before:  # not NaN
        while True:
            accepted = await _metric(http, "jacameno_collab_updates_accepted_total")
            # The fan-out probe's own edits count too (one more may be on its way).
            if accepted - before - len(probes.fanout_ms) >= edits:
                return
            await anyio.sleep(0.1)
    seen: pycrdt.Doc[Any] = pycrdt.Doc()
    while seen.get_state() != wanted_state:
        message = decode_message(bytes(await watcher.recv()))
        if isinstance(message, SyncMessage) and message.sync_type is SyncType.UPDATE:
            seen.apply_update(message.payload)


async def _drain(ws: ClientConnection) -> None:
    """Read and drop what the server sends (a peer that stops reading gets dropped)."""
    async for _ in ws:
        pass


async def _until_compacted(http: httpx.AsyncClient) -> None:
    """Wait through the compactions the burst set off, until fewer than 500 updates wait
    for one; a server that does not say gets a fixed 40 s."""
    pending = await _metric(http, "jacameno_collab_log_updates")
    if pending != pending:  # NaN: no such metric
        await anyio.sleep(40)
        return
    while pending >= 500:
        await anyio.sleep(0.2)
        pending = await _metric(http, "jacameno_collab_log_updates")


async def _fresh_sync_ms(url: str, wanted_state: bytes) -> float:
    started = time.perf_counter()
    async with connect(url, max_size=None, compression=None) as fresh:
        await fresh.recv()
        await fresh.send(sync_step1(b"\x00"))
        while True:
            message = decode_message(bytes(await fresh.recv()))
            if isinstance(message, SyncMessage) and message.sync_type is SyncType.STEP2:
                break
        doc: pycrdt.Doc[Any] = pycrdt.Doc()
        doc.apply_update(message.payload)
        elapsed_ms = (time.perf_counter() - started) * 1000
    have = decode_state_vector(doc.get_state())
    for client, clock in decode_state_vector(wanted_state).items():
        assert have.get(client, 0) >= clock, "the fresh client lacks edits"
    return elapsed_ms


async def measure(repo: Path, edits: int, *, idle_s: float = IDLE_S) -> dict[str, Any]:
    expected = burst_updates(edits)
    final: pycrdt.Doc[Any] = pycrdt.Doc()
    for update in expected:
        final.apply_update(update)
    wanted_state = final.get_state()
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        workdir = Path(tmp)
        (workdir / "var").mkdir()
        async with (
            serve(repo, workdir) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=120) as http,
        ):
            signup = await http.post(
                "/api/v1/auth/signup", json={"email": "b@example.com", "password": PASSWORD}
            )
            token = signup.json()["access_token"]
            auth = {"authorization": f"Bearer {token}"}
            big, other = [
                (await http.post("/api/v1/projects", json={"name": n}, headers=auth)).json()["id"]
                for n in ("big", "other")
            ]
            ws_base = base_url.replace("http://", "ws://") + "/collab"
            writer = await _joined(f"{ws_base}/{other}?token={token}")
            reader = await _joined(f"{ws_base}/{other}?token={token}")
            watcher = await _joined(f"{ws_base}/{big}?token={token}")
            probes = Probes()
            async with anyio.create_task_group() as group:  # the idle baseline
                stop = anyio.Event()
                group.start_soon(probes.health, base_url, stop)
                group.start_soon(probes.fanout, writer, reader, stop)
                await anyio.sleep(idle_s)
                stop.set()
            idle = {"healthz": _summary(probes.health_ms), "fanout": _summary(probes.fanout_ms)}
            probes.reset()
            before = await _metric(http, "jacameno_collab_compactions_total")
            started = time.perf_counter()
            frames_path = workdir / "burst.frames"
            write_frames(expected, frames_path)
            burst_url = f"{ws_base}/{big}?token={token}"
            burster = await anyio.open_process(
                [sys.executable, __file__, "--frames", str(frames_path), "--burst", burst_url],
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            accepted = await _metric(http, "jacameno_collab_updates_accepted_total")
            async with anyio.create_task_group() as group:  # the burst and what follows
                stop = anyio.Event()
                group.start_soon(probes.health, base_url, stop)
                group.start_soon(probes.fanout, writer, reader, stop)
                if accepted == accepted:
                    group.start_soon(_drain, watcher)
                with anyio.fail_after(900):
                    await _until_relayed(http, watcher, wanted_state, (accepted, edits, probes))
                    relayed_s = time.perf_counter() - started
                    ingest = {
                        "healthz": _summary(probes.health_ms),
                        "fanout": _summary(probes.fanout_ms),
                    }
                    probes.reset()
                    await _until_compacted(http)
                stop.set()
                group.cancel_scope.cancel()
            burst_s = time.perf_counter() - started
            compactions = await _metric(http, "jacameno_collab_compactions_total") - before
            burster.terminate()
            await burster.wait()
            compacting = {
                "healthz": _summary(probes.health_ms),
                "fanout": _summary(probes.fanout_ms),
            }
            fresh_ms = await _fresh_sync_ms(f"{ws_base}/{big}?token={token}", wanted_state)
            for ws in (writer, reader, watcher):
                await ws.close()
    return {
        "repo": str(repo),
        "edits": edits,
        "document_bytes": len(final.get_update()),
        "idle": idle,
        "ingesting": ingest,
        "compacting": compacting,
        "burst_relayed_s": round(relayed_s, 2),
        "burst_and_compaction_s": round(burst_s, 2),
        "compactions": compactions,
        "fresh_sync_ms": round(fresh_ms, 1),
    }


def _ratio(during: dict[str, float], idle: dict[str, float], key: str) -> str:
    if not during or not idle or not idle.get(key):
        return "-"
    return f"{during[key] / idle[key]:.1f}x"


def report(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        idle = result["idle"]
        lines.append(
            f"{result['repo']}: {result['edits']} edits, {result['document_bytes']} B document;"
            f" written and relayed in {result['burst_relayed_s']} s, its"
            f" {result['compactions']:.0f} compactions done at"
            f" {result['burst_and_compaction_s']} s"
        )
        for phase in ("ingesting", "compacting"):
            health, fanout = result[phase]["healthz"], result[phase]["fanout"]
            lines.append(
                f"  {phase:<10} /healthz p99 {health.get('p99_ms')} ms"
                f" ({_ratio(health, idle['healthz'], 'p99_ms')} idle), worst"
                f" {health.get('max_ms')} ms | other room p50 {fanout.get('p50_ms')}"
                f" p99 {fanout.get('p99_ms')} ms ({_ratio(fanout, idle['fanout'], 'p99_ms')}"
                f" idle), worst {fanout.get('max_ms')} ms"
            )
        lines.append(
            f"  idle       /healthz p99 {idle['healthz'].get('p99_ms')} ms | other room p99"
            f" {idle['fanout'].get('p99_ms')} ms; a fresh client synced the big document in"
            f" {result['fresh_sync_ms']} ms"
        )
    lines.append(
        "targets: worst /healthz < 100 ms; other room p99 < 50 ms while compacting;"
        " fresh sync < 1000 ms"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=50_000)
    parser.add_argument("--repo", type=Path, action="append", help="a checkout to serve")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--burst", help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.burst:
        anyio.run(send_burst, args.burst, args.frames)
        return
    results = []
    for repo in args.repo or [ROOT]:
        results.append(anyio.run(measure, repo.resolve(), args.edits))
    print(report(results))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark the AI memory: embedding speed on one core, and per-user lookups among 100,000.

Run from the repository root::

    .venv/bin/python bench/bench_memory.py [--quick] [--users 1000] [--lines 100]

Reported, each figure with its ratio to the target of issue #15:

- the model: its weights file's size on disk and its load time (first ``embed`` call);
- embedding throughput of typical lyric lines, in sentences/s, one line per call (as
  ``remember`` does) and 1000 per call (as ``remember_many`` does), with BLAS/OpenMP
  limited to one thread and the main thread pinned to one CPU. Target >= 500/s;
- :class:`StyleMemory` filled with ``users x lines`` rows (100,000 by default) through
  ``remember_many``: rows/s, then ``nearest`` p50/p99 before and after ``optimize`` (the
  reference in the same run: before it, every row is outside the user_id index and each
  lookup scans the table), then after it with strong read consistency (the default) and
  without (its cost grows with the versions younger than 10 minutes, here one per
  ``remember_many``: a burst of writes, the worst case). Target p99 <= 10 ms. Lookups
  include embedding the query in a worker thread; lancedb's own threads are not
  pinned. Also ``style_version`` and ``items`` p50/p99.

``--quick`` is a smoke run: 10,000 rows and fewer lookups.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import anyio  # noqa: E402
import wordllama  # noqa: E402

from jacameno.audio_services.memory.embedder import WordLlamaEmbedder  # noqa: E402
from jacameno.audio_services.memory.store import (  # noqa: E402
    READ_CONSISTENCY_S,
    MemoryKind,
    StyleMemory,
    Verdict,
)

EMBED_TARGET_PER_S = 500.0
LOOKUP_P99_TARGET_MS = 10.0

_SUBJECTS = ["I", "you", "we", "she", "the city", "my heart", "the night", "your ghost", "love"]
_VERBS = ["keep", "hold", "burn", "run", "fall", "wait", "dance", "break", "call", "shine"]
_PLACES = [
    "in the rain",
    "on the highway",
    "under neon lights",
    "by the river",
    "through the smoke",
    "across the county line",
    "in your mother's kitchen",
    "at the edge of town",
    "under summer stars",
    "in the cold December air",
]
_ENDINGS = ["tonight", "again", "forever", "till the morning", "like we used to", "alone", ""]


def lyric_lines(count: int, seed: int = 0) -> list[str]:
    """``count`` lyric-like lines of 5 to 12 words."""
    rng = random.Random(seed)
    return [
        " ".join(
            word
            for word in (
                rng.choice(_SUBJECTS),
                rng.choice(_VERBS),
                rng.choice(_PLACES),
                rng.choice(_ENDINGS),
            )
            if word
        )
        for _ in range(count)
    ]


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


def _pin_main_thread() -> tuple[set[int], str]:
    if not hasattr(os, "sched_setaffinity"):
        return set(), "not pinned (no sched_setaffinity)"
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    return cpus, f"main thread pinned to CPU {min(cpus)}"


def bench_embedding(line_count: int) -> None:
    weights = sorted((Path(wordllama.__file__).parent / "weights").glob("l2_supercat_256*"))
    size = sum(path.stat().st_size for path in weights)
    cpus, pinned = _pin_main_thread()
    try:
        embedder = WordLlamaEmbedder()
        start = time.perf_counter()
        embedder.embed(["load the model"])
        load_s = time.perf_counter() - start
        print(f"model {embedder.name}: weights {size:,} bytes ({size / 2**20:.1f} MiB)")
        print(f"model load (first embed call): {load_s * 1e3:.0f} ms")
        lines = lyric_lines(line_count, seed=1)
        start = time.perf_counter()
        for line in lines:
            embedder.embed([line])
        one_by_one = line_count / (time.perf_counter() - start)
        batch = 1000
        start = time.perf_counter()
        for first in range(0, line_count, batch):
            embedder.embed(lines[first : first + batch])
        batched = line_count / (time.perf_counter() - start)
    finally:
        if cpus:
            os.sched_setaffinity(0, cpus)
    print(f"embedding, {line_count} lyric lines, one core ({pinned}, BLAS threads 1):")
    target = EMBED_TARGET_PER_S
    print(f"  one line per call: {one_by_one:,.0f} sentences/s ({one_by_one / target:.0f}x target)")
    print(f"  {batch} lines per call: {batched:,.0f} sentences/s ({batched / target:.0f}x target)")


async def _timed(calls: int, call: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    samples = []
    for index in range(calls):
        start = time.perf_counter()
        await call(index)
        samples.append(time.perf_counter() - start)
    return _ms(samples)


async def _lookups(memory: StyleMemory, users: int, calls: int, label: str) -> tuple[float, float]:
    queries = lyric_lines(calls, seed=2)
    rng = random.Random(3)
    user_of = [f"user-{rng.randrange(users)}" for _ in range(calls)]

    async def lookup(index: int) -> object:
        return await memory.nearest(user_of[index], queries[index], k=5)

    await lookup(0)  # warm-up
    p50, p99 = await _timed(calls, lookup)
    print(
        f"  nearest, {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms"
        f"  (p99 / {LOOKUP_P99_TARGET_MS:g} ms target: {p99 / LOOKUP_P99_TARGET_MS:.2f}x)"
    )
    return p50, p99


async def bench_store(folder: Path, users: int, lines: int, calls: int) -> None:
    embedder = WordLlamaEmbedder()
    rows = users * lines
    print(f"memory store: {rows:,} rows, {users:,} users x {lines} lines, in {folder}")
    async with StyleMemory(
        str(folder), embedder, optimize_every=10 * rows, read_consistency_s=0.0
    ) as memory:
        texts = lyric_lines(lines * 10, seed=4)
        start = time.perf_counter()
        for user in range(users):
            first = (user * lines) % (len(texts) - lines)
            await memory.remember_many(
                f"user-{user}", MemoryKind.LYRICS, texts[first : first + lines], Verdict.WRITTEN
            )
        written_s = time.perf_counter() - start
        print(f"  remember_many, {lines} per call: {rows / written_s:,.0f} rows/s")
        before_p50, _ = await _lookups(memory, users, max(calls // 10, 10), "before optimize")
        start = time.perf_counter()
        await memory.optimize()
        print(f"  optimize (index {rows:,} rows, compact): {time.perf_counter() - start:.2f} s")
        # Each write made a version, all younger than the 10 minutes an optimize keeps:
        # every consistency check lists them (the worst case of a burst of writes).
        label = f"indexed, strong consistency, {users:,} recent versions"
        after_p50, _ = await _lookups(memory, users, calls, label)
        print(f"  index speed-up, p50 before / after: {before_p50 / after_p50:.0f}x")

        async def version(index: int) -> object:
            return await memory.style_version(f"user-{index % users}")

        async def newest(index: int) -> object:
            return await memory.items(f"user-{index % users}", limit=50)

        p50, p99 = await _timed(calls, version)
        print(f"  style_version ({lines} ids): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        p50, p99 = await _timed(calls, newest)
        print(f"  items, newest 50: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    async with StyleMemory(str(folder), embedder) as memory:
        label = f"indexed, as the server reads (consistency every {READ_CONSISTENCY_S} s)"
        lazy_p50, _ = await _lookups(memory, users, calls, label)
        print(f"  strong consistency cost, p50: {after_p50 - lazy_p50:+.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, fewer lookups")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=100, help="rows per user")
    parser.add_argument("--lookups", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.lines, args.lookups = 200, 50, 200
    bench_embedding(2000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as directory:
        anyio.run(bench_store, Path(directory) / "memory", args.users, args.lines, args.lookups)
    return 0


if __name__ == "__main__":
    sys.exit(main())

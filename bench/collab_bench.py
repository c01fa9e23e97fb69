"""Benchmark y-websocket servers with real yjs clients; quote figures as ratios to the reference.

    .venv/bin/python bench/collab_bench.py                  # every scenario, ~2 min per target
    .venv/bin/python bench/collab_bench.py --quick          # a short smoke run
    .venv/bin/python bench/collab_bench.py --scenarios fanout_1x20,sync_10k
    .venv/bin/python bench/collab_bench.py --target mypkg.bench_targets:jacameno > out.json
    .venv/bin/python bench/collab_bench.py --target bench.collab_bench:reference_target
                                            # an A/A run: how far ratios stray from 1.0 here
    .venv/bin/python bench/collab_bench.py --target bench.node_targets:hocuspocus \
        --target bench.jacameno_target:jacameno  # both Node servers, then ours
    --repeat 3 runs every scenario three times per target (alternating) and quotes medians.

The reference is ``@y/websocket-server`` with y-leveldb persistence on, started
fresh for each scenario on a free loopback port. Every other target runs the
same scenario right after it, so noise from a shared two-core machine hits
both alike; the table quotes each figure as a ratio to the reference of the
same run. The table goes to stderr, the JSON (every raw figure) to stdout.

Targets marked ``baseline`` (the reference, and Hocuspocus from
``bench.node_targets``) are the Node servers the others are judged against:
per scenario, ``best_node`` holds the lowest p50 and p99 fan-out latency among
them and which server gave it, and ``vs_best_node`` every target's ratio to
that (a table row "... vs best Node"). A baseline that lost deliveries or did
not converge is left out of the best (``best_node_excluded`` says why): its
latency covers only what arrived.

A second target is a zero-argument callable returning a `Target`, named on
the command line as ``module:attribute``. Its ``start(workdir)`` is an async
context manager yielding a `RunningTarget`: the provider server URL (the room
name is appended as ``/{name}``), the PID whose memory and CPU are measured,
and ``prepare_rooms`` mapping the bench's logical room names to real rooms and
their URL params (for us: create projects, return their ids and a token), and
``client``, the provider the load generator opens (``y-websocket``, the
default, or ``hocuspocus``, which keeps the URL as given and names the room in
every message)::

    def jacameno() -> Target:
        @asynccontextmanager
        async def start(workdir: Path) -> AsyncIterator[RunningTarget]:
            async with run_our_server(workdir) as server:       # your code
                async def rooms(names: Sequence[str]) -> list[RoomAccess]:
                    return [RoomAccess(await server.new_project(n), {"token": server.token})
                            for n in names]
                yield RunningTarget(f"{server.ws_url}/collab", server.pid, rooms)
        return Target("jacameno", start)

All traffic goes to 127.0.0.1; every scenario has a bounded size and a timeout.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `tests.support` importable
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.node_peer import (  # noqa: E402
    ReferenceServer,
    node_unavailable_reason,
)

LOAD_SCRIPT = REPO_ROOT / "bench" / "collab_load.mjs"
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
MAX_RESULT_LINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RoomAccess:
    """A real room name and the URL params a client needs to join it."""

    name: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunningTarget:
    """A started server: provider URL, the PID to measure, how to get rooms, which client."""

    url: str
    pid: int
    prepare_rooms: Callable[[Sequence[str]], Awaitable[list[RoomAccess]]]
    client: str = "y-websocket"  # a collab_load.mjs client: y-websocket | hocuspocus


TargetStarter = Callable[[Path], AbstractAsyncContextManager[RunningTarget]]


@dataclass(frozen=True)
class Target:
    """A server to benchmark; `load_overrides` adjust the clients (e.g. deflate off).

    `baseline` marks a Node server the others are compared with (``best_node``).
    """

    name: str
    start: TargetStarter
    load_overrides: Mapping[str, Any] = field(default_factory=dict)
    baseline: bool = False


def reference_target() -> Target:
    """``@y/websocket-server`` with y-leveldb persistence in the run's work dir."""

    @asynccontextmanager
    async def start(workdir: Path) -> AsyncIterator[RunningTarget]:
        async with ReferenceServer(persistence_dir=workdir / "leveldb") as server:

            async def rooms(names: Sequence[str]) -> list[RoomAccess]:
                return [RoomAccess(name) for name in names]

            yield RunningTarget(url=server.url, pid=server.pid, prepare_rooms=rooms)

    return Target("reference", start, baseline=True)


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str  # a collab_load.mjs mode: fanout | sync | rooms
    rooms: int
    settings: Mapping[str, Any]
    timeout_s: float
    description: str


def scenarios(*, quick: bool) -> list[Scenario]:
    """The standard set; `quick` shrinks counts and durations, not the shapes."""
    updates = 60 if quick else 200  # at 20/s: 3 s or 10 s of writing
    fanout = {"rate_hz": 20, "updates_per_writer": updates, "payload_bytes": 16}
    return [
        Scenario(
            "fanout_1x20",
            "fanout",
            1,
            {**fanout, "clients_per_room": 20, "writers_per_room": 20},
            90,
            "1 room x 20 clients, all writing 20 updates/s",
        ),
        Scenario(
            "fanout_50x4",
            "fanout",
            50,
            # 5/s, not 20/s: 200 writers at 20/s (4,000 updates/s, 16,000 frames/s
            # out) saturate a 2-core box, and then both sides measure the queue.
            {
                **fanout,
                "clients_per_room": 4,
                "writers_per_room": 4,
                "rate_hz": 5,
                "updates_per_writer": updates // 4,
            },
            120,
            "50 rooms x 4 clients, all writing 5 updates/s",
        ),
        Scenario(
            "fanout_1x100_w5",
            "fanout",
            1,
            {**fanout, "clients_per_room": 100, "writers_per_room": 5},
            120,
            "1 room x 100 clients, 5 writing 20 updates/s",
        ),
        Scenario(
            "sync_10k",
            "sync",
            1,
            {"edits": 2000 if quick else 10_000, "tries": 3 if quick else 7},
            120,
            "fresh client syncing a document built from 10,000 edits",
        ),
        Scenario(
            "idle_rooms",
            "rooms",
            100 if quick else 500,
            {"room_text_chars": 200, "room_map_keys": 5, "hold_ms": 1000},
            120,
            "server memory per idle room (one idle client, small document)",
        ),
    ]


# --------------------------------------------------------------- measuring


@dataclass(frozen=True)
class ProcSample:
    rss_kib: int
    peak_rss_kib: int
    cpu_s: float


def sample_process(pid: int) -> ProcSample:
    """Resident and peak memory (/proc/PID/status) and CPU time (/proc/PID/stat)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    # The command name may contain spaces; the fields after its ")" do not.
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    cpu_ticks = int(stat[11]) + int(stat[12])  # utime, stime
    return ProcSample(fields["VmRSS"], fields["VmHWM"], cpu_ticks / CLOCK_TICKS_PER_S)


async def run_load(
    mode: str,
    config: Mapping[str, Any],
    *,
    timeout_s: float,
    on_phase: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Run collab_load.mjs once and return its JSON result."""
    config_path = _write_config(config)
    command = ["node", str(LOAD_SCRIPT), mode, "--config", str(config_path)]
    if on_phase is not None:
        command.append("--handshake")
    stderr_tail = bytearray()
    result: dict[str, Any] | None = None
    try:
        async with await anyio.open_process(command, cwd=REPO_ROOT) as process:
            try:
                with anyio.fail_after(timeout_s):
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(_drain, process, stderr_tail)
                        result = await _read_result(process, on_phase)
                    await process.wait()
            except TimeoutError:
                process.kill()
                raise TimeoutError(
                    f"collab_load {mode} did not finish in {timeout_s} s: "
                    f"{stderr_tail[-2000:].decode(errors='replace')}"
                ) from None
    finally:
        await anyio.Path(config_path).unlink(missing_ok=True)
    if result is None:
        raise RuntimeError(
            f"collab_load {mode} gave no result (exit {process.returncode}): "
            f"{stderr_tail[-2000:].decode(errors='replace')}"
        )
    return result


def _write_config(config: Mapping[str, Any]) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
        return Path(handle.name)


async def _drain(process: Process, tail: bytearray) -> None:
    assert process.stderr is not None
    async for chunk in process.stderr:
        tail += chunk
        del tail[:-16384]


async def _read_result(
    process: Process, on_phase: Callable[[dict[str, Any]], Awaitable[None]] | None
) -> dict[str, Any] | None:
    assert process.stdout is not None
    assert process.stdin is not None
    lines = BufferedByteReceiveStream(process.stdout)
    result: dict[str, Any] | None = None
    while True:
        try:
            line = await lines.receive_until(b"\n", MAX_RESULT_LINE_BYTES)
        except (anyio.EndOfStream, anyio.IncompleteRead):
            return result
        message = json.loads(line)
        if "phase" in message and on_phase is not None:
            await on_phase(message)
            await process.stdin.send(b"next\n")
        elif "mode" in message:
            result = message


# --------------------------------------------------------------- scenarios


async def run_scenario(target: Target, scenario: Scenario) -> dict[str, Any]:
    """Start `target` fresh, run `scenario` against it, return raw and derived figures."""
    nonce = uuid.uuid4().hex[:8]
    names = [f"bench-{scenario.name}-{nonce}-{i}" for i in range(scenario.rooms)]
    with tempfile.TemporaryDirectory(prefix=f"bench-{target.name}-") as workdir:
        async with target.start(Path(workdir)) as running:
            rooms = await running.prepare_rooms(names)
            config = {
                **scenario.settings,
                **target.load_overrides,
                "url": running.url,
                # A plug-in's own RunningTarget-like object may predate `client`.
                "client": getattr(running, "client", "y-websocket"),
                "rooms": [{"name": room.name, "params": dict(room.params)} for room in rooms],
                "max_run_ms": int(scenario.timeout_s * 1000) - 5000,
            }
            before = sample_process(running.pid)
            samples: dict[str, ProcSample] = {"before": before}

            async def on_phase(message: dict[str, Any]) -> None:
                samples[str(message["phase"])] = sample_process(running.pid)

            load = await run_load(
                scenario.mode,
                config,
                timeout_s=scenario.timeout_s,
                on_phase=on_phase if scenario.mode == "rooms" else None,
            )
            after = sample_process(running.pid)
    server = {
        "cpu_s": round(after.cpu_s - before.cpu_s, 3),
        "rss_before_kib": before.rss_kib,
        "rss_after_kib": after.rss_kib,
        "peak_rss_kib": after.peak_rss_kib,
    }
    if scenario.mode == "rooms":
        server.update({f"rss_{phase}_kib": sample.rss_kib for phase, sample in samples.items()})
    return {"load": load, "server": server, "figures": figures(scenario, load, server)}


def figures(
    scenario: Scenario, load: Mapping[str, Any], server: Mapping[str, Any]
) -> dict[str, float | None]:
    """The few numbers quoted per scenario (units in the names)."""
    out: dict[str, float | None] = {}
    if scenario.mode == "fanout":
        latency = load.get("latency_ms") or {}
        out["latency_p50_ms"] = latency.get("p50")
        out["latency_p99_ms"] = latency.get("p99")
        out["lost_deliveries"] = load.get("lost")
        out["converged_rooms"] = load.get("converged_rooms")
        out["byte_identical_rooms"] = load.get("byte_identical_rooms")
        out["connect_p99_ms"] = (load.get("connect_ms") or {}).get("p99")
        out["loadgen_delay_p99_ms"] = (load.get("loadgen_delay_while_writing_ms") or {}).get("p99")
    elif scenario.mode == "sync":
        out["provider_sync_median_ms"] = (load.get("provider_sync_ms") or {}).get("median")
        out["server_sync_step2_median_ms"] = (load.get("server_sync_step2_ms") or {}).get("median")
        out["sync_step2_bytes"] = load.get("sync_step2_bytes")
    elif scenario.mode == "rooms":
        rooms = max(1, int(load.get("rooms") or 0))
        before = server["rss_before_kib"]
        opened = server.get("rss_opened_kib")
        closed = server.get("rss_closed_kib")
        out["rss_per_open_room_kib"] = None if opened is None else (opened - before) / rooms
        out["rss_per_closed_room_kib"] = None if closed is None else (closed - before) / rooms
    out["server_cpu_s"] = server["cpu_s"]
    out["server_peak_rss_mib"] = round(server["peak_rss_kib"] / 1024, 1)
    return out


# --------------------------------------------------------------- reporting


def combine_runs(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One target's repeats of a scenario: the median of each figure, and every raw run."""
    good = [run for run in runs if "figures" in run]
    if not good:
        return {"error": "; ".join(str(run.get("error")) for run in runs), "runs": list(runs)}
    keys = list(good[0]["figures"])
    medians: dict[str, float | None] = {}
    for key in keys:
        values = [run["figures"][key] for run in good if run["figures"].get(key) is not None]
        medians[key] = statistics.median(values) if values else None
    return {"figures": medians, "failed_runs": len(runs) - len(good), "runs": list(runs)}


def ratios(
    results: Mapping[str, Mapping[str, Any]], reference: str
) -> dict[str, dict[str, float | None]]:
    base = results[reference]["figures"]
    out: dict[str, dict[str, float | None]] = {}
    for name, result in results.items():
        if name == reference:
            continue
        out[name] = _divided(result["figures"], base, result["figures"])
    return out


def _divided(
    figures: Mapping[str, Any], base: Mapping[str, Any], keys: Iterable[str]
) -> dict[str, float | None]:
    """``figures[key] / base[key]`` for each key (None where either is missing or zero)."""
    return {
        key: (figures[key] / base[key] if figures.get(key) is not None and base.get(key) else None)
        for key in keys
    }


BEST_NODE_FIGURES = ("latency_p50_ms", "latency_p99_ms")


def best_node(
    results: Mapping[str, Mapping[str, Any]], baselines: Sequence[str], rooms: int
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The lowest of each `BEST_NODE_FIGURES` among `baselines`, and the baselines left out.

    Each best is ``{"value": ms, "server": name}``. A baseline that lost
    deliveries or left rooms unconverged is left out: its latency covers a subset.
    """
    excluded: dict[str, str] = {}
    eligible: list[tuple[str, Mapping[str, Any]]] = []
    for name in baselines:
        figures = results.get(name, {}).get("figures")
        if figures is None:
            excluded[name] = "no figures: the run failed"
        elif figures.get("lost_deliveries"):
            excluded[name] = f"lost {figures['lost_deliveries']} deliveries"
        elif (figures.get("converged_rooms") or 0) < rooms:
            excluded[name] = f"{figures.get('converged_rooms')} of {rooms} rooms converged"
        else:
            eligible.append((name, figures))
    best: dict[str, dict[str, Any]] = {}
    for key in BEST_NODE_FIGURES:
        candidates = [(figures[key], name) for name, figures in eligible if figures.get(key)]
        if candidates:
            value, server = min(candidates)
            best[key] = {"value": value, "server": server}
    return best, excluded


def vs_best_node(
    results: Mapping[str, Mapping[str, Any]], best: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, float | None]]:
    """Every target's figures as ratios to the best Node server's (1.0 for that server)."""
    out: dict[str, dict[str, float | None]] = {}
    for name, result in results.items():
        figures = result.get("figures")
        if figures is None:
            continue
        out[name] = _divided(figures, {key: entry["value"] for key, entry in best.items()}, best)
    return out


def render_table(report: Mapping[str, Any], targets: Sequence[str]) -> str:
    reference, others = targets[0], targets[1:]
    header = ["scenario", "figure", reference, *[f"{t} (x ref)" for t in others]]
    rows: list[list[str]] = []
    for name, scenario in report["scenarios"].items():
        results = scenario["results"]
        if reference not in results or "figures" not in results[reference]:
            rows.append([name, "error", str(results.get(reference, {}).get("error"))])
            continue
        for key, value in results[reference]["figures"].items():
            row = [name, key, _fmt(value)]
            for other in others:
                ratio = scenario.get("ratios", {}).get(other, {}).get(key)
                figure = results.get(other, {}).get("figures", {}).get(key)
                row.append(f"{_fmt(figure)} ({_fmt(ratio, 2)}x)" if ratio else _fmt(figure))
            rows.append(row)
            name = ""
            if key in BEST_NODE_FIGURES and "best_node" in scenario:
                rows.append(_best_node_row(scenario, key, others))
    widths = [max(len(r[i]) for r in [header, *rows] if i < len(r)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        for row in rows
    ]
    head = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    notes = [
        f"best Node in {name} leaves out {server}: {reason}"
        for name, scenario in report["scenarios"].items()
        for server, reason in scenario.get("best_node_excluded", {}).items()
    ]
    return "\n".join([head, "-" * len(head), *lines, *notes])


def _best_node_row(scenario: Mapping[str, Any], key: str, others: Sequence[str]) -> list[str]:
    """The best Node server's figure (and which) and each other target's ratio to it."""
    best = scenario["best_node"].get(key)
    if best is None:
        return ["", f"{key} vs best Node", "- (no Node server qualified)"]
    row = ["", f"{key} vs best Node", f"{_fmt(best['value'])} ({best['server']})"]
    for other in others:
        ratio = scenario.get("vs_best_node", {}).get(other, {}).get(key)
        row.append("-" if ratio is None else f"{_fmt(ratio, 2)}x")
    return row


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def load_target(spec: str) -> Target:
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise SystemExit(f"--target wants module:attribute, got {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    target = factory() if callable(factory) else factory
    # Duck-typed: run as a script, this module's Target is __main__.Target, and a
    # plug-in importing bench.collab_bench gets another class of the same shape.
    name, start = getattr(target, "name", None), getattr(target, "start", None)
    if not isinstance(name, str) or not callable(start):
        raise SystemExit(f"{spec} gave {type(target).__name__}, not a bench Target")
    return Target(
        name,
        start,
        dict(getattr(target, "load_overrides", {})),
        bool(getattr(target, "baseline", False)),
    )


async def run(
    targets: Sequence[Target],
    chosen: Sequence[Scenario],
    *,
    quick: bool,
    repeat: int,
    node_version: str,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "quick": quick,
        "repeat": repeat,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_start": os.getloadavg(),
            "python": platform.python_version(),
            "node": node_version,
        },
        "targets": [target.name for target in targets],
        "scenarios": {},
    }
    for scenario in chosen:
        runs: dict[str, list[dict[str, Any]]] = {target.name: [] for target in targets}
        # Targets alternate within each repeat, so drift in machine load hits all alike.
        for attempt in range(repeat):
            for target in targets:
                print(
                    f"[bench] {scenario.name} on {target.name} ({attempt + 1}/{repeat}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    runs[target.name].append(await run_scenario(target, scenario))
                except Exception as exc:  # one broken target must not lose the others' figures
                    runs[target.name].append({"error": f"{type(exc).__name__}: {exc}"})
        results = {name: combine_runs(target_runs) for name, target_runs in runs.items()}
        entry: dict[str, Any] = {
            "description": scenario.description,
            "mode": scenario.mode,
            "settings": dict(scenario.settings),
            "rooms": scenario.rooms,
            "results": results,
        }
        if all("figures" in result for result in results.values()):
            entry["ratios"] = ratios(results, targets[0].name)
        if scenario.mode == "fanout":
            baselines = [target.name for target in targets if target.baseline]
            best, excluded = best_node(results, baselines, scenario.rooms)
            entry["best_node"] = best
            entry["vs_best_node"] = vs_best_node(results, best)
            if excluded:
                entry["best_node_excluded"] = excluded
        report["scenarios"][scenario.name] = entry
    report["machine"]["load_average_end"] = os.getloadavg()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short counts and durations")
    parser.add_argument("--scenarios", help="comma-separated subset of scenario names")
    parser.add_argument(
        "--target", action="append", default=[], help="module:attribute giving a Target"
    )
    parser.add_argument("--no-deflate", action="store_true", help="clients offer no compression")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per scenario and target; figures are medians"
    )
    parser.add_argument("--json-out", type=Path, help="also write the JSON report here")
    args = parser.parse_args(argv)

    reason = node_unavailable_reason()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    chosen = scenarios(quick=args.quick)
    if args.scenarios:
        wanted = set(args.scenarios.split(","))
        unknown = wanted - {s.name for s in chosen}
        if unknown:
            known = ", ".join(s.name for s in chosen)
            parser.error(f"unknown scenarios {sorted(unknown)}; known: {known}")
        chosen = [s for s in chosen if s.name in wanted]
    targets = [reference_target()]
    for spec in args.target:
        target = load_target(spec)
        # `--target bench.collab_bench:reference_target` is an A/A run: the noise floor.
        base, suffix = target.name, 2
        while target.name in {t.name for t in targets}:
            target = replace(target, name=f"{base}#{suffix}")
            suffix += 1
        targets.append(target)
    if args.no_deflate:
        targets = [
            replace(t, load_overrides={**t.load_overrides, "per_message_deflate": False})
            for t in targets
        ]

    node_version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be between 1 and 10")
    report = anyio.run(
        functools.partial(
            run, targets, chosen, quick=args.quick, repeat=args.repeat, node_version=node_version
        )
    )
    print(render_table(report, [t.name for t in targets]), file=sys.stderr)
    text = json.dumps(report, indent=2)
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

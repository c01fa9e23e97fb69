"""Compute functions that kill their worker process (imported by spawned pool workers,
so this module stays free of heavy imports)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def crash_once(kind: str, params: dict[str, Any], inputs: dict[str, Any], *_: Any) -> Any:
    """Kill the worker process the first time (a marker file remembers), then succeed."""
    marker = Path(inputs["marker"])
    if not marker.exists():
        marker.write_text("crashed")
        os._exit(1)
    return {"result": {"ok": True}, "outputs": [], "sidecars": []}


def crash_always(*_: Any) -> Any:
    os._exit(1)


def misbehave(kind: str, params: dict[str, Any], inputs: dict[str, Any], *_: Any) -> Any:
    """What ``inputs["behaviour"]`` says: ``hang`` (far past any test's time limit),
    ``swell`` (touch ``inputs["megabytes"]`` MB, 16 MB at a time, then ``hold`` them
    for an hour if asked) or nothing special.
    The worker's pid goes to ``inputs["pid_file"]`` when given, before anything else."""
    if inputs.get("pid_file"):
        Path(inputs["pid_file"]).write_text(str(os.getpid()))
    behaviour = inputs.get("behaviour")
    if behaviour == "hang":
        import time

        time.sleep(3600)
    if behaviour == "swell":
        blocks = []
        for _ in range(int(inputs["megabytes"]) // 16):
            block = bytearray(16 * 1024 * 1024)
            block[::4096] = b"\1" * len(block[::4096])  # touch every page
            blocks.append(block)
        if inputs.get("hold"):
            import time

            time.sleep(3600)
    return {"result": {"ok": True, "pid": os.getpid()}, "outputs": [], "sidecars": []}


def gated(gate: str, *args: Any) -> Any:
    """Compute (the real DSP) once the FIFO ``gate`` is opened for writing: a job that
    runs exactly as long as its test wants, with no clock involved."""
    with open(gate, "rb") as fifo:
        fifo.read()
    from jacameno.audio_services.jobs.compute import compute

    return compute(*args)


def counted(started: str, gate: str, runs: str, *_: Any) -> Any:
    """Record a run (a new file in ``runs``), say so through the FIFO ``started``, then
    wait for the FIFO ``gate`` before returning a trivial result."""
    Path(runs, f"run-{os.getpid()}-{len(os.listdir(runs))}").write_text("ran")
    with open(started, "wb"):
        pass
    with open(gate, "rb") as fifo:
        fifo.read()
    return {"result": {"ok": True}, "outputs": [], "sidecars": []}


def open_gate(gate: str) -> None:
    """Open the FIFO ``gate`` for writing (blocks until a reader opens it), then close it."""
    with open(gate, "wb"):
        pass


def wait_started(started: str) -> None:
    """Wait until a :func:`counted` run opens the FIFO ``started``."""
    with open(started, "rb") as fifo:
        fifo.read()

"""Run an audio job in a fresh spawned process and report its peak resident memory.

A spawned child starts from a clean interpreter, as a job worker does, so its
peak RSS (``VmHWM`` from ``/proc/self/status``, Linux only) is the job's own:
the imports plus whatever the job holds at its worst moment.
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.queues import Queue
from typing import Any

IMPORT_ONLY = "imports"


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM line in /proc/self/status")


def _child(kind: str, args: tuple[Any, ...], queue: Queue[Any]) -> None:
    try:
        from jacameno.audio_services.jobs.compute import compute

        result = None if kind == IMPORT_ONLY else compute(kind, *args)
        queue.put(("ok", result, peak_rss_mib()))
    except BaseException as exc:  # reported to the parent, which raises
        queue.put(("error", f"{type(exc).__name__}: {exc}", peak_rss_mib()))


def run_job_in_child(
    kind: str,
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
    workdir: str,
    max_duration_s: float = 3600.0,
) -> tuple[dict[str, Any] | None, float]:
    """``compute(kind, ...)`` in a spawned process: ``(computed, peak RSS in MiB)``.

    ``kind="imports"`` only imports the job functions (the baseline).
    """
    if not sys.platform.startswith("linux"):
        raise RuntimeError("peak RSS is read from /proc (Linux only)")
    context = multiprocessing.get_context("spawn")
    queue: Queue[Any] = context.Queue()
    process = context.Process(
        target=_child, args=(kind, (params, inputs, files, workdir, max_duration_s), queue)
    )
    process.start()
    status, payload, peak_mib = queue.get(timeout=280)
    process.join(timeout=30)
    if status != "ok":
        raise RuntimeError(f"the {kind} job failed in the child: {payload}")
    return payload, peak_mib

"""One job end to end, on whichever process runs it (serve or a saq worker).

Fetch the input assets into a temporary folder, run :func:`compute` off the
event loop (through ``call``: a killable worker process), store the outputs as
assets and sidecars, and record the outcome in the ledger. Bad input, and a
job stopped for its time or memory limit, end as a failed outcome with the
error's message; a dead worker (:class:`WorkerCrashedError`) and anything else
raise, so that the runner can retry the attempt.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.jobs.compute import Computed
from jacameno.audio_services.jobs.protocol import (
    AssetStore,
    JobLedger,
    JobOutcome,
    JobTicket,
    ProgressCallback,
    WorkerCrashedError,
)

log = logging.getLogger("jacameno.jobs")

ComputeCall = Callable[[JobTicket, dict[str, str], str], Awaitable[Computed]]
"""Runs :func:`~audio_services.jobs.compute.compute` for a ticket, given the local
paths of its inputs and a working folder, somewhere off the event loop."""


def input_asset_ids(ticket: JobTicket) -> list[str]:
    """Every asset a ticket reads."""
    ids: list[str] = []
    for stem in ticket.inputs.get("stems", ()):
        if stem.get("midi"):
            continue  # notes, no audio
        clips = stem.get("clips") or ()
        ids.extend([clip["asset_id"] for clip in clips] if clips else [stem["asset_id"]])
    for key in ("asset_id", "reference_asset_id"):
        if ticket.inputs.get(key):
            ids.append(ticket.inputs[key])
    ids.extend(clip["asset_id"] for clip in ticket.inputs.get("clips") or ())
    ids.extend(ticket.inputs.get("asset_ids") or ())
    return list(dict.fromkeys(ids))


async def execute(
    ticket: JobTicket,
    *,
    assets: AssetStore,
    ledger: JobLedger,
    call: ComputeCall,
    progress: ProgressCallback | None = None,
) -> JobOutcome:
    """Run a claimed ticket and record its outcome in ``ledger`` (see the module doc)."""
    with tempfile.TemporaryDirectory(prefix=f"job-{ticket.job_id[:8]}-") as workdir:
        folder = Path(workdir)
        try:
            files: dict[str, str] = {}
            for asset_id in input_asset_ids(ticket):
                stored = await assets.fetch(ticket.project_id, asset_id, folder)
                files[asset_id] = str(stored.path)
            if progress is not None:
                await progress(0.2)
            computed = await call(ticket, files, workdir)
        except WorkerCrashedError:
            raise
        except AudioError as exc:
            outcome = JobOutcome("failed", error=str(exc))
            await ledger.fail(ticket.job_id, outcome.error or "failed")
            return outcome
        if progress is not None:
            await progress(0.9)
        result: dict[str, Any] = dict(computed["result"])
        for output in computed["outputs"]:
            result[f"{output['role']}_asset_id"] = await assets.add(
                ticket.project_id,
                Path(output["path"]),
                kind=output["kind"],
                filename=output["filename"],
                content_type=output["content_type"],
                audio=output["audio"],
                created_by=ticket.requested_by or None,
            )
        for sidecar in computed["sidecars"]:
            await assets.put_sidecar(sidecar["asset_id"], sidecar["suffix"], Path(sidecar["path"]))
    if not await ledger.finish(ticket.job_id, result):
        log.warning("job %s was no longer running when it finished", ticket.job_id)
        row = await ledger.get(ticket.job_id)
        if row is not None and row.status == "failed":
            return JobOutcome("failed", error=row.error)
    return JobOutcome("done", result=result)

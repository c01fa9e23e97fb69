"""One job, from its entry in a project document to its outcome written back.

:class:`JobProcessor` is what :class:`~audio_services.jobs.coordinator.JobCoordinator`
runs for each job it dispatches, and what admits the jobs it adds itself:

- **admission**: a job with a ledger row was admitted before (REST, upload, an
  earlier run); any other entry was written into the document by a peer, is
  attributed to the actor of the transaction that created it (an entry no one
  can be held to account for fails) and passes the AI rate limit
  (:class:`JobAdmission`) and the cap on queued-or-running jobs per requester
  (a conditional insert in the ledger). A refused job fails with the reason.
- **a fair turn**: admitted jobs wait for a slot of the :class:`FairScheduler`.
- **claim and run**: the job is claimed in the ledger (queued -> running,
  atomically) so two coordinators never run one job; a job already finished in
  the ledger only has its outcome copied, a finished job with the same inputs
  is reused, and otherwise the :class:`JobRunner` runs it.
- **outcome**: progress and the outcome are written into the document with
  origin :data:`JOB_ORIGIN`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from pycrdt import Map

from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.jobs.document import ticket_for, write_outcome
from jacameno.audio_services.jobs.fairness import FairScheduler
from jacameno.audio_services.jobs.protocol import (
    JOB_ORIGIN,
    DocumentHost,
    JobAdmission,
    JobLedger,
    JobOutcome,
    JobRefusedError,
    JobRunner,
    JobTicket,
    LedgerRow,
)
from jacameno.collab.access import actor_of_origin
from jacameno.collab.relay import RELAY_ORIGIN
from jacameno.docs_model import ProjectDocument
from jacameno.docs_model.errors import DocsModelError, JobStateError, UnknownJobError

__all__ = ["CAP_RETRY_AFTER_S", "JobProcessor"]

log = logging.getLogger("jacameno.jobs")

#: Seconds a requester over the job cap is told to wait before asking again.
CAP_RETRY_AFTER_S = 30


def _outcome_of(row: LedgerRow) -> JobOutcome:
    if row.status == "done":
        return JobOutcome("done", result=row.result or {})
    return JobOutcome("failed", error=row.error or "the job failed")


class JobProcessor:
    """Admits, schedules, claims and runs single jobs, and writes their outcomes
    (see the module doc); at most ``max_active_per_requester`` jobs of one
    requester are queued or running."""

    def __init__(
        self,
        host: DocumentHost,
        ledger: JobLedger,
        runner: JobRunner,
        *,
        admission: JobAdmission,
        scheduler: FairScheduler,
        max_active_per_requester: int,
    ) -> None:
        self.host = host
        self.ledger = ledger
        self.runner = runner
        self.admission = admission
        self.scheduler = scheduler
        self.max_active_per_requester = max_active_per_requester

    async def run_entry(self, project_id: str, job_id: str, origins: Mapping[str, object]) -> None:
        """Admit the document entry ``job_id``, wait for a fair turn, then process it.

        ``origins`` maps job ids to the origin of the transaction that created
        their entry (who a peer-written job counts against).
        """
        requester = await self.admit_entry(project_id, job_id, origins)
        if requester is not None:
            async with self.scheduler.slot(requester):
                await self.process(project_id, job_id)

    async def admit(self, ticket: JobTicket) -> LedgerRow:
        """Insert ``ticket``'s row if its requester is under the cap; else fail the job
        (row and document) and raise :class:`JobRefusedError`."""
        row = await self.ledger.admit(ticket, self.max_active_per_requester)
        if row is not None:
            return row
        error = JobRefusedError(
            f"too many jobs: {ticket.requested_by or 'this requester'} already has"
            f" {self.max_active_per_requester} jobs queued or running; ask again when"
            " some have finished",
            retry_after_s=CAP_RETRY_AFTER_S,
            limit=f"{self.max_active_per_requester} active jobs",
        )
        await self.refuse(ticket, str(error))
        raise error

    async def refuse(self, ticket: JobTicket, reason: str) -> None:
        """Fail the job with ``reason``, in the ledger and the document."""
        await self.ledger.ensure(ticket)
        await self.ledger.fail(ticket.job_id, reason)
        await self.write(ticket, JobOutcome("failed", error=reason))

    async def admit_entry(
        self, project_id: str, job_id: str, origins: Mapping[str, object]
    ) -> str | None:
        """Who the job counts against, once admitted; None when it was refused or is gone.

        A job with a ledger row was admitted before (REST, upload, an earlier run).
        Any other entry was written into the document by a peer: it is attributed to
        the peer that created it and passes the same limits as a REST request.
        """
        row = await self.ledger.get(job_id)
        if row is not None:
            return row.requested_by
        if origins.get(job_id) == RELAY_ORIGIN:
            # Written through another server process, which knows the writer and
            # admits it; once admitted, the row decides here too.
            return None
        async with self.host.document(project_id, origin=JOB_ORIGIN) as doc:
            project = ProjectDocument(doc)
            try:
                job = project.get_job(job_id)
            except DocsModelError:
                return None
            if job.status.is_final:
                return None
            written_by = job.requested_by
            try:
                ticket = ticket_for(project, job, project_id)
            except AudioError:
                # Admitted all the same: process() fails it with the reason.
                ticket = JobTicket(job_id, project_id, job.kind.value, dict(job.params), {})
        actor = actor_of_origin(origins.get(job_id))
        if actor is None:
            await self.refuse(
                ticket,
                "this job was written into the document without a signed-in peer to count"
                " it against; ask for it from a client or bot that is signed in, or"
                " through the API",
            )
            return None
        ticket = replace(ticket, requested_by=actor)
        if written_by != actor:
            await self._set_requester(project_id, job_id, actor)
        try:
            await self.admission.admit(actor, project_id, ticket.kind)
        except JobRefusedError as exc:
            await self.refuse(ticket, str(exc))
            return None
        try:
            await self.admit(ticket)
        except JobRefusedError:
            return None  # failed with the reason already
        return actor

    async def _set_requester(self, project_id: str, job_id: str, actor: str) -> None:
        """Overwrite the ``requested_by`` a peer wrote with the actor it counts against."""
        async with self.host.document(project_id, origin=JOB_ORIGIN) as doc:
            entry = ProjectDocument(doc).roots.jobs.get(job_id)
            if isinstance(entry, Map):
                with doc.transaction(origin=JOB_ORIGIN):
                    entry["requested_by"] = actor

    async def process(self, project_id: str, job_id: str) -> None:
        """Claim the admitted job and run it, or copy an outcome the ledger already has."""
        problem: str | None = None
        async with self.host.document(project_id, origin=JOB_ORIGIN) as doc:
            project = ProjectDocument(doc)
            try:
                job = project.get_job(job_id)
            except UnknownJobError:
                await self._drop_queued(job_id, "the job was removed from the document")
                return
            except DocsModelError as exc:
                await self._drop_queued(job_id, f"the job's entry is unreadable: {exc}")
                return
            if job.status.is_final:
                return
            try:
                ticket = ticket_for(project, job, project_id)
            except AudioError as exc:
                problem = str(exc)
                ticket = JobTicket(
                    job_id, project_id, job.kind.value, dict(job.params), {}, job.requested_by
                )
        row = await self.ledger.ensure(ticket)
        # The ledger knows who asked; the document's field may have been written by anyone.
        ticket = replace(ticket, requested_by=row.requested_by)
        if problem is not None:
            await self.ledger.fail(job_id, problem)
            await self.write(ticket, JobOutcome("failed", error=problem))
            return
        if row.status in ("done", "failed"):
            await self.write(ticket, _outcome_of(row))
            return
        if not await self.ledger.claim(job_id):
            current = await self.ledger.get(job_id)
            if current is not None and current.status in ("done", "failed"):
                await self.write(ticket, _outcome_of(current))
            elif current is not None and current.status == "running":
                attached = await self.runner.attach(ticket)
                if attached is not None:
                    await self.write(ticket, attached)
            return
        prior = await self.ledger.find_done(project_id, ticket.kind, ticket.input_hash)
        if prior is not None and prior.job_id != job_id and prior.result is not None:
            result = {**prior.result, "reused_from": prior.job_id}
            await self.ledger.finish(job_id, result)
            await self.write(ticket, JobOutcome("done", result=result))
            return
        await self._progress(ticket, 0.05, running=True)

        async def progress(fraction: float) -> None:
            await self._progress(ticket, fraction)

        outcome = await self.runner.run(ticket, progress)
        await self.write(ticket, outcome)

    async def _drop_queued(self, job_id: str, reason: str) -> None:
        # A queued row whose entry is gone would count against its requester's cap forever.
        row = await self.ledger.get(job_id)
        if row is not None and row.status == "queued":
            await self.ledger.fail(job_id, reason)

    async def _progress(self, ticket: JobTicket, fraction: float, *, running: bool = False) -> None:
        await self.ledger.set_progress(ticket.job_id, fraction)
        try:
            async with self.host.document(ticket.project_id, origin=JOB_ORIGIN) as doc:
                project = ProjectDocument(doc)
                if running:
                    project.mark_running(ticket.job_id, fraction, origin=JOB_ORIGIN)
                else:
                    project.set_progress(ticket.job_id, fraction, origin=JOB_ORIGIN)
        except DocsModelError as exc:
            log.info("job %s progress not written: %s", ticket.job_id, exc)

    async def write(self, ticket: JobTicket, outcome: JobOutcome) -> None:
        """Write ``outcome`` into the job's document entry (a failure if it does not fit)."""
        try:
            async with self.host.document(ticket.project_id, origin=JOB_ORIGIN) as doc:
                write_outcome(ProjectDocument(doc), ticket, outcome)
        except (UnknownJobError, JobStateError):
            # A peer removed the entry, or another writer finished it: the ledger
            # keeps the outcome either way.
            return
        except DocsModelError as exc:
            log.warning("job %s: result not writable (%s); marking it failed", ticket.job_id, exc)
            async with self.host.document(ticket.project_id, origin=JOB_ORIGIN) as doc:
                ProjectDocument(doc).fail(
                    ticket.job_id, f"the result could not be written: {exc}", origin=JOB_ORIGIN
                )

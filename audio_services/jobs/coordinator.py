"""The job coordinator: watches project documents, claims jobs, writes results back.

Every loaded room gets an observer on its ``jobs`` map (kept referenced here:
pycrdt drops a subscription that is garbage collected). The observer only
queues ids; a dispatcher task reads them outside the commit and starts one task
per job (bounded by a capacity limiter). A job is claimed in the ledger
(queued -> running, atomically) before it runs, so two coordinators never run one
job; a job already finished in the ledger (a restart, another instance) only has
its outcome copied into the document. At start-up the coordinator requeues jobs a
dead process left running (in-process runner) and opens the rooms of projects
with unfinished jobs, whose observers then pick them up.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from pycrdt import Subscription

from audio_services.errors import AudioError
from audio_services.jobs.document import (
    RUNNABLE_KINDS,
    resolve_ticket,
    ticket_for,
    write_outcome,
)
from audio_services.jobs.protocol import (
    JOB_ORIGIN,
    DocumentHost,
    JobLedger,
    JobOutcome,
    JobRunner,
    JobTicket,
    LedgerRow,
)
from docs_model import ProjectDocument
from docs_model.errors import DocsModelError, JobStateError, UnknownJobError
from docs_model.schema import JobStatus

log = logging.getLogger("jacameno.jobs")

#: Transaction origin of jobs requested through the REST API.
API_ORIGIN = "service:api"


@dataclass
class _Watch:
    room: Any
    project: ProjectDocument
    subscription: Subscription


def _outcome_of(row: LedgerRow) -> JobOutcome:
    if row.status == "done":
        return JobOutcome("done", result=row.result or {})
    return JobOutcome("failed", error=row.error or "the job failed")


class JobCoordinator:
    """Use as ``async with JobCoordinator(rooms, ledger, runner) as jobs:`` (see module doc)."""

    def __init__(
        self,
        host: DocumentHost,
        ledger: JobLedger,
        runner: JobRunner,
        *,
        max_concurrent: int = 2,
        max_attempts: int = 3,
        recover_orphans: bool = True,
    ) -> None:
        self.host = host
        self.ledger = ledger
        self.runner = runner
        self.max_attempts = max_attempts
        self.recover_orphans = recover_orphans
        self._limiter = anyio.CapacityLimiter(max_concurrent)
        self._watches: dict[str, _Watch] = {}
        self._active: set[str] = set()
        self._group: TaskGroup | None = None
        self._closing = False
        # Set once jobs a dead process left running are requeued: no claim before that.
        self._recovered = anyio.Event()
        self._send: MemoryObjectSendStream[tuple[str, tuple[str, ...] | None]] | None = None
        self._receive: MemoryObjectReceiveStream[tuple[str, tuple[str, ...] | None]] | None = None

    async def __aenter__(self) -> JobCoordinator:
        self._send, self._receive = anyio.create_memory_object_stream[
            tuple[str, tuple[str, ...] | None]
        ](math.inf)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._dispatch)
        self.host.add_room_listener(self._on_room)
        self._group.start_soon(self._sweep)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None, "not started"
        assert self._send is not None
        self._closing = True
        self._send.close()
        self._group.cancel_scope.cancel()
        try:
            return await self._group.__aexit__(exc_type, exc, tb)
        finally:
            # The dispatcher may be cancelled before it ever opened the receiving end.
            if self._receive is not None:
                self._receive.close()
            self._watches.clear()

    # ------------------------------------------------------------------ requests

    async def request(
        self, project_id: str, kind: str, params: dict[str, Any], requested_by: str
    ) -> tuple[str, bool]:
        """Add a queued ``kind`` job to the project's document (and its ledger row).

        Returns ``(job_id, reused)``: a queued or running job with the same inputs is
        returned instead of a new one. Raises :class:`JobInputError` when the
        document lacks what the job needs.
        """
        async with self.host.document(project_id, origin=API_ORIGIN) as doc:
            project = ProjectDocument(doc)
            wanted = resolve_ticket(project, project_id, "", kind, params, requested_by)
            for other in project.list_jobs():
                if other.kind.value != kind or other.status.is_final:
                    continue
                try:
                    same = ticket_for(project, other, project_id).input_hash
                except AudioError:
                    continue
                if same == wanted.input_hash:
                    return other.id, True
            job_id = project.request_job(kind, params, requested_by, origin=API_ORIGIN)
            ticket = ticket_for(project, project.get_job(job_id), project_id)
        await self.ledger.ensure(ticket)
        return job_id, False

    async def add_track(
        self, project_id: str, name: str, kind: str, asset_id: str, requested_by: str
    ) -> tuple[str, str]:
        """Add an uploaded track to the document and queue its analysis, in one change.

        Returns ``(track_id, job_id)``; the analysis job's ledger row exists on return.
        """
        async with self.host.document(project_id, origin=API_ORIGIN) as doc:
            project = ProjectDocument(doc)
            with doc.transaction(origin=API_ORIGIN):
                track_id = project.add_track(name, kind, asset_id=asset_id, origin=API_ORIGIN)
                params = {"asset_id": asset_id, "track_id": track_id}
                job_id = project.request_job("analysis", params, requested_by, origin=API_ORIGIN)
            ticket = ticket_for(project, project.get_job(job_id), project_id)
        await self.ledger.ensure(ticket)
        return track_id, job_id

    # ------------------------------------------------------------------ watching

    def _on_room(self, room: Any) -> None:
        if self._send is None or self._closing:
            return
        project = ProjectDocument(room.doc)
        name = str(room.name)

        def changed(job_ids: tuple[str, ...]) -> None:
            self._queue(name, job_ids)

        subscription = project.observe_jobs(changed, skip_origin=JOB_ORIGIN)
        self._watches[name] = _Watch(room, project, subscription)
        self._queue(name, None)
        if self._group is not None:
            self._group.start_soon(self._forget_when_evicted, name, room)

    async def _forget_when_evicted(self, name: str, room: Any) -> None:
        # An unloaded room's observer goes with it; drop our references so it is freed.
        await room.evicted.wait()
        watch = self._watches.get(name)
        if watch is not None and watch.room is room:
            del self._watches[name]

    def _queue(self, project_id: str, job_ids: tuple[str, ...] | None) -> None:
        if self._send is not None:
            with contextlib.suppress(anyio.ClosedResourceError):
                self._send.send_nowait((project_id, job_ids))

    async def _dispatch(self) -> None:
        assert self._receive is not None
        assert self._group is not None
        await self._recovered.wait()
        async with self._receive:
            async for project_id, job_ids in self._receive:
                watch = self._watches.get(project_id)
                if watch is None:
                    continue
                wanted = {JobStatus.QUEUED} if job_ids else {JobStatus.QUEUED, JobStatus.RUNNING}
                for job in watch.project.list_jobs():
                    if (
                        (job_ids is None or job.id in job_ids)
                        and job.status in wanted
                        and job.kind.value in RUNNABLE_KINDS
                        and job.id not in self._active
                    ):
                        self._active.add(job.id)
                        self._group.start_soon(self._handle, project_id, job.id)

    async def _sweep(self) -> None:
        # In the background: start-up must not need the database (readiness reports it).
        try:
            if self.recover_orphans:
                requeued, failed = await self.ledger.requeue_orphans(self.max_attempts)
                if requeued or failed:
                    log.warning(
                        "jobs left running by a dead process: %d requeued, %d failed",
                        requeued,
                        failed,
                    )
            project_ids = await self.ledger.projects_to_sweep()
        except Exception:
            log.exception("cannot recover or sweep jobs at start-up")
            project_ids = []
        finally:
            self._recovered.set()
        for project_id in project_ids:
            try:
                async with self.host.document(project_id, origin=JOB_ORIGIN):
                    pass  # loading the room runs the listener, which scans its jobs
            except Exception:
                log.exception("cannot sweep the jobs of project %s", project_id)

    # ------------------------------------------------------------------ one job

    async def _handle(self, project_id: str, job_id: str) -> None:
        try:
            async with self._limiter:
                await self._process(project_id, job_id)
        except Exception:
            log.exception("job %s of project %s could not be processed", job_id, project_id)
        finally:
            self._active.discard(job_id)

    async def _process(self, project_id: str, job_id: str) -> None:
        problem: str | None = None
        async with self.host.document(project_id, origin=JOB_ORIGIN) as doc:
            project = ProjectDocument(doc)
            try:
                job = project.get_job(job_id)
            except (UnknownJobError, DocsModelError):
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
        if problem is not None:
            await self.ledger.fail(job_id, problem)
            await self._write(ticket, JobOutcome("failed", error=problem))
            return
        if row.status in ("done", "failed"):
            await self._write(ticket, _outcome_of(row))
            return
        if not await self.ledger.claim(job_id):
            current = await self.ledger.get(job_id)
            if current is not None and current.status in ("done", "failed"):
                await self._write(ticket, _outcome_of(current))
            elif current is not None and current.status == "running":
                attached = await self.runner.attach(ticket)
                if attached is not None:
                    await self._write(ticket, attached)
            return
        prior = await self.ledger.find_done(project_id, ticket.kind, ticket.input_hash)
        if prior is not None and prior.job_id != job_id and prior.result is not None:
            result = {**prior.result, "reused_from": prior.job_id}
            await self.ledger.finish(job_id, result)
            await self._write(ticket, JobOutcome("done", result=result))
            return
        await self._progress(ticket, 0.05, running=True)

        async def progress(fraction: float) -> None:
            await self._progress(ticket, fraction)

        outcome = await self.runner.run(ticket, progress)
        await self._write(ticket, outcome)

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

    async def _write(self, ticket: JobTicket, outcome: JobOutcome) -> None:
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

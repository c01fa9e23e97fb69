"""The job coordinator: watches project documents, admits and claims jobs, writes
results back.

Every loaded room gets an observer on its ``jobs`` map (kept referenced here:
pycrdt drops a subscription that is garbage collected). The observer only
queues ids and notes who wrote each entry (the transaction origin); a dispatcher
task reads them outside the commit and starts one task per job.

Each job is first **admitted**: a REST or upload request was admitted by
:meth:`JobCoordinator.request` / :meth:`~JobCoordinator.add_track`; an entry a
peer wrote straight into the document is attributed to the peer's actor (origin
``peer:<actor>``; the ``requested_by`` it wrote is overwritten, and an entry no one
can be held to account for fails), then passes the same limits: the AI rate limit
(:class:`JobAdmission`) and the cap on queued-or-running jobs per requester (a
conditional insert in the ledger). A refused job fails with the reason.

Admitted jobs wait for a slot of a :class:`FairScheduler`, round robin across
requesters. A job is claimed in the ledger (queued -> running, atomically) before
it runs, so two coordinators never run one job; a job already finished in the
ledger (a restart, another instance) only has its outcome copied into the
document. At start-up the coordinator requeues jobs a dead process left running
(in-process runner) and opens the rooms of projects with unfinished jobs, whose
observers then pick them up.

This module watches, dispatches and takes requests; what happens to one job,
from admission to its outcome, is :class:`~audio_services.jobs.processing.JobProcessor`.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from pycrdt import Subscription

from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.jobs.document import RUNNABLE_KINDS, resolve_ticket, ticket_for
from jacameno.audio_services.jobs.fairness import FairScheduler
from jacameno.audio_services.jobs.processing import CAP_RETRY_AFTER_S, JobProcessor
from jacameno.audio_services.jobs.protocol import (
    JOB_ORIGIN,
    DocumentHost,
    JobAdmission,
    JobLedger,
    JobRefusedError,
    JobRunner,
)
from jacameno.docs_model import ProjectDocument
from jacameno.docs_model.schema import JobStatus

__all__ = ["API_ORIGIN", "CAP_RETRY_AFTER_S", "JobCoordinator"]

log = logging.getLogger("jacameno.jobs")

#: Transaction origin of jobs requested through the REST API.
API_ORIGIN = "service:api"

_Item = tuple[str, tuple[str, ...] | None]


@dataclass
class _Watch:
    room: Any
    project: ProjectDocument
    subscription: Subscription
    #: Origin of the first transaction that touched each job id not handled yet.
    origins: dict[str, object] = field(default_factory=dict)


class JobCoordinator:
    """Use as ``async with JobCoordinator(rooms, ledger, runner, admission=...) as jobs:``
    (see the module doc); ``max_concurrent`` jobs run at once."""

    def __init__(
        self,
        host: DocumentHost,
        ledger: JobLedger,
        runner: JobRunner,
        *,
        admission: JobAdmission,
        max_concurrent: int = 2,
        max_active_per_requester: int = 20,
        max_attempts: int = 3,
        recover_orphans: bool = True,
    ) -> None:
        self.host = host
        self.ledger = ledger
        self.runner = runner
        self.admission = admission
        self.max_attempts = max_attempts
        self.recover_orphans = recover_orphans
        #: Who runs next: ``max_concurrent`` jobs at once, in fair turns across requesters.
        self.scheduler = FairScheduler(max_concurrent)
        #: Takes each job from admission to its outcome in the document.
        self.processor = JobProcessor(
            host,
            ledger,
            runner,
            admission=admission,
            scheduler=self.scheduler,
            max_active_per_requester=max_active_per_requester,
        )
        self._watches: dict[str, _Watch] = {}
        self._active: set[str] = set()
        self._group: TaskGroup | None = None
        self._closing = False
        # Set once jobs a dead process left running are requeued: no claim before that.
        self._recovered = anyio.Event()
        self._send: MemoryObjectSendStream[_Item] | None = None
        self._receive: MemoryObjectReceiveStream[_Item] | None = None

    @property
    def max_active_per_requester(self) -> int:
        """Queued-or-running jobs one requester may have; more are refused."""
        return self.processor.max_active_per_requester

    async def __aenter__(self) -> JobCoordinator:
        self._send, self._receive = anyio.create_memory_object_stream[_Item](math.inf)
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
        document lacks what the job needs, and :class:`JobRefusedError` when
        ``requested_by`` has too many jobs queued or running (the entry is then
        failed with the reason). The caller has counted the request against its
        rate limit.
        """
        pending: str | None = None
        try:
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
                # Admitted here, not by the dispatcher: it leaves active ids alone.
                pending = job_id
                self._active.add(job_id)
            await self.processor.admit(ticket)
        finally:
            if pending is not None:
                self._active.discard(pending)
                self._queue(project_id, (pending,))
        return job_id, False

    async def add_track(
        self,
        project_id: str,
        name: str,
        kind: str,
        asset_id: str,
        requested_by: str,
        *,
        duration_s: float | None = None,
    ) -> tuple[str, str]:
        """Add an uploaded track to the document and queue its analysis, in one change.

        With ``duration_s`` (seconds, known from the upload) the track gets one clip
        that plays the whole asset from the start of the song, so it is on the
        timeline for every peer at once.

        Returns ``(track_id, job_id)``; the analysis job's ledger row exists on return.
        When ``requested_by`` has too many jobs queued or running, the track is kept
        and its analysis job fails with the reason (callers check
        :meth:`active_jobs` first).
        """
        pending: str | None = None
        try:
            async with self.host.document(project_id, origin=API_ORIGIN) as doc:
                project = ProjectDocument(doc)
                with doc.transaction(origin=API_ORIGIN):
                    track_id = project.add_track(name, kind, asset_id=asset_id, origin=API_ORIGIN)
                    if duration_s is not None and duration_s > 0:
                        project.add_clip(
                            track_id,
                            asset_id,
                            start_s=0.0,
                            duration_s=duration_s,
                            origin=API_ORIGIN,
                        )
                    params = {"asset_id": asset_id, "track_id": track_id}
                    job_id = project.request_job(
                        "analysis", params, requested_by, origin=API_ORIGIN
                    )
                ticket = ticket_for(project, project.get_job(job_id), project_id)
                pending = job_id
                self._active.add(job_id)
            with contextlib.suppress(JobRefusedError):
                await self.processor.admit(ticket)
        finally:
            if pending is not None:
                self._active.discard(pending)
                self._queue(project_id, (pending,))
        return track_id, job_id

    async def active_jobs(self, requested_by: str) -> int:
        """How many jobs ``requested_by`` has queued or running (against the cap)."""
        return await self.ledger.count_active(requested_by)

    # ------------------------------------------------------------------ watching

    def _on_room(self, room: Any) -> None:
        if self._send is None or self._closing:
            return
        project = ProjectDocument(room.doc)
        name = str(room.name)
        # Called again when a room replaces its document: observe the new one, keep
        # what is known of the entries, and keep the one watcher of its eviction.
        previous = self._watches.get(name)
        again = previous is not None and previous.room is room
        origins: dict[str, object] = previous.origins if previous is not None and again else {}

        def changed(job_ids: tuple[str, ...], origin: object) -> None:
            # Who created an entry decides who it counts against: keep the first origin.
            for job_id in job_ids:
                origins.setdefault(job_id, origin)
            self._queue(name, job_ids)

        subscription = project.observe_jobs(changed, skip_origin=JOB_ORIGIN)
        self._watches[name] = _Watch(room, project, subscription, origins)
        self._queue(name, None)
        if self._group is not None and not again:
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
                started: set[str] = set()
                for job in watch.project.list_jobs():
                    if (
                        (job_ids is None or job.id in job_ids)
                        and job.status in wanted
                        and job.kind.value in RUNNABLE_KINDS
                        and job.id not in self._active
                    ):
                        self._active.add(job.id)
                        started.add(job.id)
                        self._group.start_soon(self._handle, watch, project_id, job.id)
                for job_id in job_ids or ():
                    if job_id not in started and job_id not in self._active:
                        watch.origins.pop(job_id, None)

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

    async def _handle(self, watch: _Watch, project_id: str, job_id: str) -> None:
        try:
            await self.processor.run_entry(project_id, job_id, watch.origins)
        except Exception:
            log.exception("job %s of project %s could not be processed", job_id, project_id)
        finally:
            self._active.discard(job_id)
            watch.origins.pop(job_id, None)

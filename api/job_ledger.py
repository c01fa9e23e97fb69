"""The job ledger: ``audio_services.jobs``' record of jobs, over the ``jobs`` table.

Claims are conditional UPDATEs (queued -> running), so two processes never run one
job; admission under a per-requester cap is one conditional INSERT (with an advisory
lock on PostgreSQL), so two requests at once cannot both slip past it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.analytics import EventKind, record_event
from jacameno.api.db import Database
from jacameno.api.db.models import Job, JobState, utcnow
from jacameno.audio_services.jobs import JobTicket, LedgerRow
from jacameno.audio_services.jobs.document import RUNNABLE_KINDS

#: Finished jobs this recent have their outcome re-checked against documents at start.
SWEEP_WINDOW = timedelta(days=1)
_FINAL = (JobState.DONE.value, JobState.FAILED.value)
_ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


@asynccontextmanager
async def shielded_session(database: Database) -> AsyncIterator[AsyncSession]:
    """A database session shielded from cancellation: the runner's queries are short,
    and one cancelled mid-query (at shutdown) would leave its connection unreturned."""
    with anyio.CancelScope(shield=True):
        async with database.session() as session:
            yield session


def _row(job: Job) -> LedgerRow:
    return LedgerRow(
        job_id=job.id,
        status=job.status,  # type: ignore[arg-type]
        attempts=job.attempts,
        result=job.result,
        error=job.error,
        requested_by=job.requested_by or "",
    )


def _of_requester(requested_by: str) -> Any:
    """Rows of ``requested_by`` that are queued or running jobs of this runner's kinds."""
    return (
        (Job.requested_by == requested_by if requested_by else Job.requested_by.is_(None))
        & Job.status.in_(_ACTIVE)
        & Job.kind.in_(sorted(RUNNABLE_KINDS))
    )


class SqlJobLedger:
    """:class:`audio_services.jobs.JobLedger` over the ``jobs`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def ensure(self, ticket: JobTicket) -> LedgerRow:
        async with shielded_session(self.database) as session:
            job = await session.get(Job, ticket.job_id)
            if job is not None:
                return _row(job)
        try:
            async with shielded_session(self.database) as session:
                job = Job(
                    id=ticket.job_id,
                    project_id=ticket.project_id,
                    kind=ticket.kind,
                    status=JobState.QUEUED.value,
                    params=ticket.params,
                    input_hash=ticket.input_hash,
                    requested_by=ticket.requested_by or None,
                    progress=0.0,
                    attempts=0,
                )
                session.add(job)
            return _row(job)
        except IntegrityError:
            row = await self.get(ticket.job_id)  # another process inserted it first
            if row is None:
                raise
            return row

    async def admit(self, ticket: JobTicket, max_active: int) -> LedgerRow | None:
        existing = await self.get(ticket.job_id)
        if existing is not None:
            return existing
        requested_by = ticket.requested_by
        columns = {
            Job.id: ticket.job_id,
            Job.project_id: ticket.project_id,
            Job.kind: ticket.kind,
            Job.status: JobState.QUEUED.value,
            Job.params: ticket.params,
            Job.input_hash: ticket.input_hash,
            Job.requested_by: requested_by or None,
            Job.progress: 0.0,
            Job.attempts: 0,
            Job.created_at: utcnow(),
        }
        active = select(func.count()).where(_of_requester(requested_by)).scalar_subquery()
        # One INSERT ... SELECT ... WHERE count < cap: SQLite runs it under its write
        # lock; PostgreSQL first takes a lock per requester for the transaction.
        row_values = select(*(literal(value, column.type) for column, value in columns.items()))
        try:
            async with shielded_session(self.database) as session:
                if self.database.dialect == "postgresql":
                    await session.execute(
                        select(func.pg_advisory_xact_lock(func.hashtext(requested_by)))
                    )
                inserted = await session.execute(
                    insert(Job).from_select(
                        [column.key for column in columns],
                        row_values.where(active < max_active),
                    )
                )
                if inserted.rowcount != 1:  # type: ignore[attr-defined]
                    return None
        except IntegrityError:
            pass  # another process inserted it first
        return await self.get(ticket.job_id)

    async def count_active(self, requested_by: str) -> int:
        async with shielded_session(self.database) as session:
            count = await session.scalar(select(func.count()).where(_of_requester(requested_by)))
            return int(count or 0)

    async def claim(self, job_id: str) -> bool:
        async with shielded_session(self.database) as session:
            claimed = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobState.QUEUED.value)
                .values(
                    status=JobState.RUNNING.value, attempts=Job.attempts + 1, started_at=utcnow()
                )
            )
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    async def get(self, job_id: str) -> LedgerRow | None:
        async with shielded_session(self.database) as session:
            job = await session.get(Job, job_id)
            return _row(job) if job is not None else None

    async def find_done(self, project_id: str, kind: str, input_hash: str) -> LedgerRow | None:
        async with shielded_session(self.database) as session:
            job = (
                await session.execute(
                    select(Job)
                    .where(
                        Job.project_id == project_id,
                        Job.kind == kind,
                        Job.input_hash == input_hash,
                        Job.status == JobState.DONE.value,
                    )
                    .order_by(Job.finished_at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            return _row(job) if job is not None else None

    async def set_progress(self, job_id: str, progress: float) -> None:
        async with shielded_session(self.database) as session:
            await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobState.RUNNING.value)
                .values(progress=progress)
            )

    async def finish(self, job_id: str, result: dict[str, Any]) -> bool:
        return await self._end(job_id, (JobState.RUNNING.value,), JobState.DONE, result=result)

    async def fail(self, job_id: str, error: str) -> bool:
        states = (JobState.QUEUED.value, JobState.RUNNING.value)
        return await self._end(job_id, states, JobState.FAILED, error=error)

    async def _end(
        self,
        job_id: str,
        states: tuple[str, ...],
        status: JobState,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        async with shielded_session(self.database) as session:
            changed = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.in_(states))
                .values(
                    status=status.value,
                    result=result,
                    error=error,
                    progress=1.0 if status is JobState.DONE else Job.progress,
                    finished_at=utcnow(),
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            job = await session.get(Job, job_id)
            if job is not None:
                record_event(
                    session,
                    EventKind.JOB_FINISHED,
                    project_id=job.project_id,
                    data={"job_id": job_id, "kind": job.kind, "status": status.value},
                )
            return True

    async def requeue_orphans(self, max_attempts: int) -> tuple[int, int]:
        async with shielded_session(self.database) as session:
            requeued = await session.execute(
                update(Job)
                .where(Job.status == JobState.RUNNING.value, Job.attempts < max_attempts)
                .values(status=JobState.QUEUED.value)
            )
            failed = await session.execute(
                update(Job)
                .where(Job.status == JobState.RUNNING.value)
                .values(
                    status=JobState.FAILED.value,
                    error=f"the server stopped while running this job {max_attempts} times",
                    finished_at=utcnow(),
                )
            )
            return requeued.rowcount, failed.rowcount  # type: ignore[attr-defined]

    async def projects_to_sweep(self) -> list[str]:
        since = utcnow() - SWEEP_WINDOW
        async with shielded_session(self.database) as session:
            rows = await session.execute(
                select(Job.project_id)
                .where(
                    Job.status.in_([JobState.QUEUED.value, JobState.RUNNING.value])
                    | (Job.finished_at >= since)
                )
                .group_by(Job.project_id)
                .order_by(func.max(Job.created_at))
            )
            return list(rows.scalars())

"""Adapters that let ``audio_services.jobs`` use our database and object store, and the
runtime the lifespan (or ``jacameno worker``) opens.

- :class:`SqlJobLedger`: job rows; claims are conditional UPDATEs (queued -> running),
  so two processes never run one job.
- :class:`StoreAssetStore`: assets in the object store plus their ``assets`` rows;
  derived data (waveform pyramid, analysis JSON) sits next to an asset under
  ``<storage_key>.<suffix>``. A produced asset counts against its requester's
  storage quota (``api/quota.py``).
- :class:`RateLimitAdmission`: jobs peers write into documents pass the AI rate limit.
- :func:`open_job_runtime`: the coordinator with the runner ``Settings`` asks for.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.analytics import EventKind, record_event
from jacameno.api.db import Database
from jacameno.api.db.models import Asset, Job, JobState, new_id, utcnow
from jacameno.api.errors import RateLimitedError
from jacameno.api.quota import StorageQuota, owner_of_actor
from jacameno.api.ratelimit import RateLimits
from jacameno.api.settings import Settings
from jacameno.api.storage import ObjectNotFoundError, ObjectStore
from jacameno.audio_services.jobs import JobInputError, JobTicket, LedgerRow, StoredAsset
from jacameno.audio_services.jobs.coordinator import JobCoordinator
from jacameno.audio_services.jobs.document import RUNNABLE_KINDS
from jacameno.audio_services.jobs.protocol import JobLimitError, JobRefusedError
from jacameno.audio_services.jobs.runners import ProcessPoolRunner, SaqRunner
from jacameno.collab.server import RoomServer

#: Finished jobs this recent have their outcome re-checked against documents at start.
SWEEP_WINDOW = timedelta(days=1)
#: Name of the saq queue on Redis.
SAQ_QUEUE = "jacameno-jobs"
_FINAL = (JobState.DONE.value, JobState.FAILED.value)
_ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


def project_folder(project_id: str) -> str:
    """The object-store folder holding every object of a project (no trailing slash)."""
    return f"projects/{project_id}"


def asset_key(project_id: str, asset_id: str, filename: str) -> str:
    """Object-store key of an asset's bytes (the extension kept for downloads)."""
    suffix = Path(filename).suffix.lower()
    extension = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""
    return f"{project_folder(project_id)}/assets/{asset_id}{extension}"


def sidecar_key(storage_key: str, suffix: str) -> str:
    return f"{storage_key}.{suffix}"


async def read_object(store: ObjectStore, key: str) -> bytes:
    """A whole (small) object; raises :class:`ObjectNotFoundError`."""
    return b"".join([chunk async for chunk in store.get(key)])


async def _file_chunks(path: Path, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(chunk_bytes):
            yield chunk


@asynccontextmanager
async def _session(database: Database) -> AsyncIterator[AsyncSession]:
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
        async with _session(self.database) as session:
            job = await session.get(Job, ticket.job_id)
            if job is not None:
                return _row(job)
        try:
            async with _session(self.database) as session:
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
            async with _session(self.database) as session:
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
        async with _session(self.database) as session:
            count = await session.scalar(select(func.count()).where(_of_requester(requested_by)))
            return int(count or 0)

    async def claim(self, job_id: str) -> bool:
        async with _session(self.database) as session:
            claimed = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobState.QUEUED.value)
                .values(
                    status=JobState.RUNNING.value, attempts=Job.attempts + 1, started_at=utcnow()
                )
            )
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    async def get(self, job_id: str) -> LedgerRow | None:
        async with _session(self.database) as session:
            job = await session.get(Job, job_id)
            return _row(job) if job is not None else None

    async def find_done(self, project_id: str, kind: str, input_hash: str) -> LedgerRow | None:
        async with _session(self.database) as session:
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
        async with _session(self.database) as session:
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
        async with _session(self.database) as session:
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
        async with _session(self.database) as session:
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
        async with _session(self.database) as session:
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


class StoreAssetStore:
    """:class:`audio_services.jobs.AssetStore` over the object store and ``assets`` rows.

    A produced asset is recorded as created by the user its requester resolves to
    (``created_by`` is an actor, ``user:<id>`` or ``apikey:<id>``), and is refused
    (:class:`JobLimitError`) when it takes that user past ``quota``.
    """

    def __init__(
        self, database: Database, store: ObjectStore, quota: StorageQuota | None = None
    ) -> None:
        self.database = database
        self.store = store
        self.quota = quota or StorageQuota(0)

    async def fetch(self, project_id: str, asset_id: str, directory: Path) -> StoredAsset:
        async with _session(self.database) as session:
            asset = await session.get(Asset, asset_id)
        if asset is None or asset.project_id != project_id:
            raise JobInputError(f"asset {asset_id} is not in this project")
        path = directory / f"{asset_id}{Path(asset.storage_key).suffix}"
        try:
            async with await anyio.open_file(path, "wb") as handle:
                async for chunk in self.store.get(asset.storage_key):
                    await handle.write(chunk)
        except ObjectNotFoundError:
            raise JobInputError(f"the audio of asset {asset_id} is missing from storage") from None
        return StoredAsset(asset_id, path, asset.kind, asset.filename)

    async def add(
        self,
        project_id: str,
        path: Path,
        *,
        kind: str,
        filename: str,
        content_type: str,
        audio: dict[str, Any] | None,
        created_by: str | None,
    ) -> str:
        asset_id = new_id()
        key = asset_key(project_id, asset_id, filename)
        stored = await self.store.put(key, _file_chunks(path), content_type=content_type)
        audio = audio or {}
        try:
            async with _session(self.database) as session:
                owner = await owner_of_actor(session, created_by) if created_by else None
                session.add(
                    Asset(
                        id=asset_id,
                        project_id=project_id,
                        storage_key=key,
                        kind=kind,
                        filename=filename,
                        content_type=content_type
                        or mimetypes.guess_type(filename)[0]
                        or "application/octet-stream",
                        size_bytes=stored.size_bytes,
                        sha256=stored.sha256,
                        duration_s=audio.get("duration_s"),
                        sample_rate=audio.get("sample_rate"),
                        channels=audio.get("channels"),
                        created_by=owner,
                    )
                )
            # Counted after the insert, so that two jobs at once cannot both slip in.
            async with _session(self.database) as session:
                left = await self.quota.room_left(session, owner)
            if left is not None and left < 0:
                raise JobLimitError(
                    f"the {filename} this job produced ({stored.size_bytes / 2**20:.1f} MB)"
                    f" does not fit in the requester's storage quota"
                    f" ({self.quota.describe(self.quota.quota_bytes - left)});"
                    " delete some assets first"
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                async with _session(self.database) as session:
                    await session.execute(delete(Asset).where(Asset.id == asset_id))
                await self.store.delete(key)
            raise
        return asset_id

    async def put_sidecar(self, asset_id: str, suffix: str, path: Path) -> None:
        async with _session(self.database) as session:
            asset = await session.get(Asset, asset_id)
        if asset is None:
            raise JobInputError(f"asset {asset_id} was deleted")
        await self.store.put(sidecar_key(asset.storage_key, suffix), _file_chunks(path))


class RateLimitAdmission:
    """:class:`audio_services.jobs.protocol.JobAdmission` over the ``ai_user`` rate limit
    (the one REST job requests count against)."""

    def __init__(self, rate_limits: RateLimits) -> None:
        self.rate_limits = rate_limits

    async def admit(self, actor: str, project_id: str, kind: str) -> None:
        try:
            await self.rate_limits.hit("ai_user", actor)
        except RateLimitedError as exc:
            raise JobRefusedError(
                f"rate limited: {exc.message}", retry_after_s=exc.retry_after_s
            ) from None


def saq_queue(redis_url: str) -> Any:
    """The saq queue on ``redis_url`` (not connected yet)."""
    from saq import Queue

    return Queue.from_url(redis_url, name=SAQ_QUEUE)


@asynccontextmanager
async def open_job_runtime(
    settings: Settings,
    database: Database,
    store: ObjectStore,
    rooms: RoomServer,
    rate_limits: RateLimits,
) -> AsyncIterator[JobCoordinator]:
    """The job coordinator and its runner, started; stopped in reverse on exit.

    Jobs peers write into documents count against ``rate_limits`` like REST requests.
    """
    ledger = SqlJobLedger(database)
    async with AsyncExitStack() as stack:
        runner: ProcessPoolRunner | SaqRunner
        if settings.uses_saq:
            assert settings.redis_url is not None
            queue = saq_queue(settings.redis_url)
            await queue.connect()
            stack.push_async_callback(queue.disconnect)
            runner = SaqRunner(queue, ledger=ledger, max_attempts=settings.job_max_attempts)
        else:
            runner = await stack.enter_async_context(
                ProcessPoolRunner(
                    assets=StoreAssetStore(
                        database, store, StorageQuota(settings.storage_quota_mb_per_user)
                    ),
                    ledger=ledger,
                    max_workers=settings.job_workers,
                    max_duration_s=settings.max_audio_duration_s,
                    max_attempts=settings.job_max_attempts,
                    warm_up=settings.job_warm_up,
                    max_memory_mb=settings.job_max_memory_mb,
                )
            )
        coordinator = await stack.enter_async_context(
            JobCoordinator(
                rooms,
                ledger,
                runner,
                admission=RateLimitAdmission(rate_limits),
                max_concurrent=settings.job_workers,
                max_active_per_requester=settings.job_max_active_per_user,
                max_attempts=settings.job_max_attempts,
                # saq sweeps its own stuck jobs; a running row may belong to a live worker.
                recover_orphans=not settings.uses_saq,
            )
        )
        yield coordinator

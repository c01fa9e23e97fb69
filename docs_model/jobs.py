"""Jobs: requests for work that a job runner picks up and answers in the document.

Life cycle: ``queued -> running -> done | failed``; a queued job may also finish or fail
directly, and done and failed are final. Timestamps are float epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pycrdt import Map, Subscription

from .base import DocumentBase, Origin, new_id
from .errors import InvalidValueError, JobStateError, MalformedDocumentError, UnknownJobError
from .fields import checked_fields, describe, has_key, to_stored
from .observing import changed_ids, event_origin
from .schema import JobKind, JobStatus, JobView, JSONValue, job_order
from .views import JOB_FIELDS, read_job

__all__ = ["JobsMixin"]

_ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


def _json_object(value: Mapping[str, object] | None, what: str) -> dict[str, JSONValue]:
    stored = to_stored(value or {}, what)
    if not isinstance(stored, dict):
        raise InvalidValueError(f"{what} must be a mapping, got {type(value).__name__}")
    return stored


class JobsMixin(DocumentBase):
    def request_job(
        self,
        kind: JobKind | str,
        params: Mapping[str, object] | None = None,
        requested_by: str = "",
        *,
        origin: Origin = None,
    ) -> str:
        """Queue a job of `kind` with JSON `params`; returns its id (status "queued")."""
        fields = checked_fields({"kind": kind, "requested_by": requested_by}, JOB_FIELDS)
        now = self._clock()
        job_id = new_id()
        entry: dict[str, object] = {
            **fields,
            "status": JobStatus.QUEUED.value,
            "progress": 0.0,
            "params": _json_object(params, "params"),
            "created_at": now,
            "updated_at": now,
        }
        with self._transaction(origin):
            self._roots.jobs[job_id] = Map(entry)
        return job_id

    def get_job(self, job_id: str) -> JobView:
        """The job; `UnknownJobError` if there is none (e.g. a peer removed it)."""
        with self._transaction(None):
            view = read_job(job_id, self._job_map(job_id))
        if view is None:
            raise MalformedDocumentError(f"jobs.{job_id} lacks a valid kind or status")
        return view

    def list_jobs(self, status: JobStatus | None = None) -> list[JobView]:
        """Readable jobs (of one `status` if given), oldest first."""
        with self._transaction(None):
            views = [read_job(job_id, raw) for job_id, raw in list(self._roots.jobs.items())]
        jobs = [job for job in views if job is not None and status in (None, job.status)]
        return sorted(jobs, key=job_order)

    def mark_running(self, job_id: str, progress: float = 0.0, *, origin: Origin = None) -> None:
        """A runner took the job (again, after a restart, if it was already running)."""
        JOB_FIELDS["progress"].require(progress)
        now = self._clock()
        with self._transaction(origin):
            updates: dict[str, object] = {"status": JobStatus.RUNNING.value, "progress": progress}
            if self.get_job(job_id).status is JobStatus.QUEUED:
                updates["started_at"] = now
            self._transition(job_id, _ACTIVE, updates, origin, now)

    def set_progress(self, job_id: str, progress: float, *, origin: Origin = None) -> None:
        """Report progress of a running job, from 0 to 1."""
        JOB_FIELDS["progress"].require(progress)
        updates: dict[str, object] = {"progress": progress}
        self._transition(job_id, {JobStatus.RUNNING}, updates, origin, self._clock())

    def finish(
        self,
        job_id: str,
        result: Mapping[str, object] | None = None,
        *,
        origin: Origin = None,
    ) -> None:
        """Mark the job done with its JSON `result` (asset ids, figures, ...)."""
        now = self._clock()
        updates: dict[str, object] = {
            "status": JobStatus.DONE.value,
            "progress": 1.0,
            "result": _json_object(result, "result"),
            "error": None,
            "finished_at": now,
        }
        self._transition(job_id, _ACTIVE, updates, origin, now)

    def fail(self, job_id: str, error: str, *, origin: Origin = None) -> None:
        """Mark the job failed with a message for the user."""
        JOB_FIELDS["error"].require(error)
        if not error:
            raise InvalidValueError("error must be a non-empty message")
        now = self._clock()
        updates: dict[str, object] = {
            "status": JobStatus.FAILED.value,
            "error": error,
            "finished_at": now,
        }
        self._transition(job_id, _ACTIVE, updates, origin, now)

    def remove_job(self, job_id: str, *, origin: Origin = None) -> None:
        with self._transaction(origin):
            self._job_map(job_id)
            del self._roots.jobs[job_id]

    def observe_jobs(
        self,
        callback: Callable[[tuple[str, ...], object], None],
        *,
        skip_origin: Origin = None,
    ) -> Subscription:
        """Call `callback(job_ids, origin)` after each transaction that touched jobs, except
        those with origin `skip_origin`; `origin` is the transaction's (who wrote it, e.g.
        ``"peer:user:<id>"``). It runs inside the commit: only queue the ids there (see
        `docs_model.observing`). Stop with `unobserve_jobs`."""

        def on_events(events: list[Any]) -> None:
            origin = event_origin(events)
            if skip_origin is not None and origin == skip_origin:
                return
            job_ids = changed_ids(events)
            if job_ids:
                callback(job_ids, origin)

        return self._roots.jobs.observe_deep(on_events)

    def unobserve_jobs(self, subscription: Subscription) -> None:
        self._roots.jobs.unobserve(subscription)

    def _job_map(self, job_id: str) -> Map[object]:
        if not has_key(self._roots.jobs, job_id):
            raise UnknownJobError(job_id)
        job = self._roots.jobs[job_id]
        if not isinstance(job, Map):
            raise MalformedDocumentError(f"jobs.{job_id} is {describe(job)}, not a Map")
        return job

    def _transition(
        self,
        job_id: str,
        allowed: frozenset[JobStatus] | set[JobStatus],
        updates: dict[str, object],
        origin: Origin,
        now: float,
    ) -> None:
        # Check everything before the first write: a pycrdt transaction cannot roll back.
        with self._transaction(origin):
            status = self.get_job(job_id).status
            if status not in allowed:
                raise JobStateError(
                    f"job {job_id} is {status.value}; this change needs it to be "
                    + " or ".join(sorted(allowed_status.value for allowed_status in allowed))
                )
            raw = self._job_map(job_id)
            for key, value in {**updates, "updated_at": now}.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    value = float(value)
                raw[key] = value

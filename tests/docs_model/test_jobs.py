"""Jobs: life cycle, timestamps, and what a job runner observes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from pycrdt import Map

from jacameno.docs_model import (
    InvalidValueError,
    JobKind,
    JobStateError,
    JobStatus,
    MalformedDocumentError,
    ProjectDocument,
    UnknownJobError,
    changed_ids,
)

from .conftest import FakeClock

SERVICE = "mixing-service"


def test_life_cycle_and_timestamps(project: ProjectDocument, clock: FakeClock) -> None:
    job_id = project.request_job(JobKind.MIXING, {"preset": "warm", "stems": [1, 2]}, "user-1")
    job = project.get_job(job_id)
    assert (job.kind, job.status, job.progress, job.requested_by) == (
        JobKind.MIXING,
        JobStatus.QUEUED,
        0.0,
        "user-1",
    )
    assert job.params == {"preset": "warm", "stems": [1.0, 2.0]}
    assert job.created_at == job.updated_at == clock.now
    assert job.started_at is None
    assert job.finished_at is None

    project.mark_running(job_id, origin=SERVICE)
    started = project.get_job(job_id).started_at
    assert project.get_job(job_id).status is JobStatus.RUNNING
    assert started == clock.now
    project.set_progress(job_id, 0.5, origin=SERVICE)
    project.mark_running(job_id, 0.25, origin=SERVICE)  # a restarted runner re-claims it
    assert project.get_job(job_id).started_at == started
    project.finish(job_id, {"asset_id": "mix-1", "loudness_lufs": -14.1}, origin=SERVICE)
    job = project.get_job(job_id)
    assert (job.status, job.progress, job.error) == (JobStatus.DONE, 1.0, None)
    assert job.result == {"asset_id": "mix-1", "loudness_lufs": -14.1}
    assert job.finished_at == job.updated_at == clock.now
    assert isinstance(job.created_at, float)
    assert job.created_at < started < job.finished_at


def test_final_states_are_final(project: ProjectDocument) -> None:
    job_id = project.request_job("analysis", requested_by="bot")
    project.fail(job_id, "decoder error")
    job = project.get_job(job_id)
    assert (job.status, job.error) == (JobStatus.FAILED, "decoder error")
    for change in (
        lambda: project.mark_running(job_id),
        lambda: project.set_progress(job_id, 0.1),
        lambda: project.finish(job_id),
        lambda: project.fail(job_id, "again"),
    ):
        with pytest.raises(JobStateError):
            change()
    assert project.get_job(job_id).error == "decoder error"


def test_progress_needs_a_running_job_and_a_fraction(project: ProjectDocument) -> None:
    job_id = project.request_job("mastering")
    with pytest.raises(JobStateError):
        project.set_progress(job_id, 0.5)
    project.mark_running(job_id)
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(InvalidValueError):
            project.set_progress(job_id, bad)
    assert project.get_job(job_id).progress == 0.0


@pytest.mark.parametrize(
    ("kind", "params"),
    [("karaoke", {}), ("mixing", {"x": float("inf")}), ("mixing", {"x": object()})],
)
def test_request_job_checks_arguments(
    project: ProjectDocument, kind: str, params: dict[str, Any]
) -> None:
    with pytest.raises(InvalidValueError):
        project.request_job(kind, params)
    assert project.list_jobs() == []


def test_unknown_and_malformed_jobs(project: ProjectDocument) -> None:
    with pytest.raises(UnknownJobError):
        project.get_job("nope")
    project.roots.jobs["odd"] = Map({"kind": "mixing", "status": "paused"})
    with pytest.raises(MalformedDocumentError):
        project.mark_running("odd")
    assert project.list_jobs() == []


def test_list_jobs_oldest_first_and_by_status(project: ProjectDocument) -> None:
    first = project.request_job("analysis")
    second = project.request_job("lyrics")
    project.mark_running(second)
    assert [job.id for job in project.list_jobs()] == [first, second]
    assert [job.id for job in project.list_jobs(JobStatus.RUNNING)] == [second]
    project.remove_job(first)
    assert [job.id for job in project.list_jobs()] == [second]


def test_observe_jobs_reports_peer_requests_and_skips_own_origin(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    client = peer_of(project)
    seen: list[tuple[str, ...]] = []
    statuses: list[JobStatus] = []
    origins: list[object] = []

    def on_jobs(job_ids: tuple[str, ...], origin: object) -> None:
        # Inside the commit: reading is fine, writing is not; only note the ids.
        seen.append(job_ids)
        origins.append(origin)
        statuses.extend(project.get_job(job_id).status for job_id in job_ids)

    subscription = project.observe_jobs(on_jobs, skip_origin=SERVICE)
    job_id = client.request_job("coaching", {"track_id": "t1"}, "user-2")
    sync(client, project)
    assert seen == [(job_id,)]
    assert statuses == [JobStatus.QUEUED]

    project.mark_running(job_id, origin=SERVICE)
    project.set_progress(job_id, 0.5, origin=SERVICE)
    assert seen == [(job_id,)]

    project.finish(job_id, {}, origin="someone-else")
    assert seen == [(job_id,), (job_id,)]
    assert origins == [None, "someone-else"]  # the transaction's origin: who wrote it
    project.unobserve_jobs(subscription)
    project.remove_job(job_id)
    assert len(seen) == 2


def test_changed_ids_covers_add_edit_nested_and_delete(project: ProjectDocument) -> None:
    batches: list[tuple[str, ...]] = []
    project.roots.jobs.observe_deep(lambda events: batches.append(changed_ids(events)))
    first = project.request_job("mixing", {"a": 1})
    second = project.request_job("mastering")
    with project.doc.transaction():
        project.roots.jobs[second]["note"] = Map({"x": 1.0})
        project.roots.jobs[first]["status"] = "running"
    project.roots.jobs[second]["note"]["x"] = 2.0
    project.remove_job(first)
    assert batches[0] == (first,)
    assert batches[1] == (second,)
    assert sorted(batches[2]) == sorted((first, second))
    assert batches[3] == (second,)
    assert batches[4] == (first,)


async def test_runner_pattern_queues_ids_and_works_outside_the_callback(
    project: ProjectDocument,
) -> None:
    send, receive = anyio.create_memory_object_stream[str](max_buffer_size=100)
    project.observe_jobs(
        lambda ids, _origin: [send.send_nowait(job_id) for job_id in ids], skip_origin=SERVICE
    )
    job_id = project.request_job("analysis", requested_by="user")
    with anyio.fail_after(5):
        received = await receive.receive()
    assert received == job_id
    # Outside the callback the runner may write, with its own origin.
    project.mark_running(received, origin=SERVICE)
    project.finish(received, {"tempo_bpm": 120.0}, origin=SERVICE)
    assert project.get_job(job_id).status is JobStatus.DONE
    with pytest.raises(anyio.WouldBlock):
        receive.receive_nowait()
    send.close()
    receive.close()

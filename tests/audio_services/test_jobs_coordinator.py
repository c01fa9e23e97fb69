"""The job coordinator on fakes: fair turns across requesters, the cap on queued-or-running
jobs per requester, and jobs written straight into the document (attributed to the peer
that wrote them, limited like REST requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import pycrdt
import pytest

from jacameno.audio_services.jobs import JobTicket, LedgerRow
from jacameno.audio_services.jobs.coordinator import JobCoordinator
from jacameno.audio_services.jobs.protocol import JobOutcome, JobRefusedError, ProgressCallback
from jacameno.docs_model import ProjectDocument

PROJECT = "p" * 32
PRESETS = ("pop", "rock", "acoustic", "electronic", "podcast", "hip-hop")


@dataclass
class FakeRoom:
    name: str
    doc: pycrdt.Doc[Any]
    evicted: anyio.Event = field(default_factory=anyio.Event)


class FakeHost:
    """One always-loaded room; services edit a working copy applied with their origin,
    as :meth:`collab.server.RoomServer.document` does."""

    def __init__(self) -> None:
        self.room = FakeRoom(PROJECT, pycrdt.Doc())
        ProjectDocument(self.room.doc).add_track("Drums", "audio", asset_id="a" * 32)

    @property
    def project(self) -> ProjectDocument:
        return ProjectDocument(self.room.doc)

    @asynccontextmanager
    async def document(self, room_name: str, *, origin: str) -> AsyncIterator[pycrdt.Doc[Any]]:
        assert room_name == PROJECT
        working: pycrdt.Doc[Any] = pycrdt.Doc()
        working.apply_update(self.room.doc.get_update())
        before = working.get_state()
        yield working
        with self.room.doc.transaction(origin=origin):
            self.room.doc.apply_update(working.get_update(before))

    def add_room_listener(self, listener: Callable[[Any], None]) -> None:
        listener(self.room)

    def peer_requests(self, origin: str, preset: str, requested_by: str = "user:forged") -> str:
        """A peer writes a queued mixing job straight into the document."""
        return self.project.request_job("mixing", {"preset": preset}, requested_by, origin=origin)


class MemoryLedger:
    """The ledger's contract in a dict (claims and the cap race are tested on databases)."""

    def __init__(self) -> None:
        self.rows: dict[str, LedgerRow] = {}

    def _set(self, job_id: str, **changes: Any) -> None:
        self.rows[job_id] = replace(self.rows[job_id], **changes)

    async def ensure(self, ticket: JobTicket) -> LedgerRow:
        return self.rows.setdefault(
            ticket.job_id,
            LedgerRow(ticket.job_id, "queued", 0, None, None, ticket.requested_by),
        )

    async def admit(self, ticket: JobTicket, max_active: int) -> LedgerRow | None:
        new = ticket.job_id not in self.rows
        if new and await self.count_active(ticket.requested_by) >= max_active:
            return None
        return await self.ensure(ticket)

    async def count_active(self, requested_by: str) -> int:
        return sum(
            row.requested_by == requested_by and row.status in ("queued", "running")
            for row in self.rows.values()
        )

    async def claim(self, job_id: str) -> bool:
        if self.rows[job_id].status != "queued":
            return False
        self._set(job_id, status="running", attempts=self.rows[job_id].attempts + 1)
        return True

    async def get(self, job_id: str) -> LedgerRow | None:
        return self.rows.get(job_id)

    async def find_done(self, project_id: str, kind: str, input_hash: str) -> LedgerRow | None:
        return None

    async def set_progress(self, job_id: str, progress: float) -> None:
        return None

    async def finish(self, job_id: str, result: dict[str, Any]) -> bool:
        if self.rows[job_id].status != "running":
            return False
        self._set(job_id, status="done", result=result)
        return True

    async def fail(self, job_id: str, error: str) -> bool:
        if job_id not in self.rows or self.rows[job_id].status in ("done", "failed"):
            return False
        self._set(job_id, status="failed", error=error)
        return True

    async def requeue_orphans(self, max_attempts: int) -> tuple[int, int]:
        return 0, 0

    async def projects_to_sweep(self) -> list[str]:
        return []


class GatedRunner:
    """Reports each job it starts on a stream and holds it until the test releases it."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self.ledger = ledger
        self.gates: dict[str, anyio.Event] = {}
        self.started_send, self.started = anyio.create_memory_object_stream[JobTicket](100)

    def release(self, job_id: str) -> None:
        self.gates.setdefault(job_id, anyio.Event()).set()

    def close(self) -> None:
        self.started_send.close()
        self.started.close()

    async def run(self, ticket: JobTicket, progress: ProgressCallback) -> JobOutcome:
        await self.started_send.send(ticket)
        await self.gates.setdefault(ticket.job_id, anyio.Event()).wait()
        await self.ledger.finish(ticket.job_id, {"preset": ticket.params["preset"]})
        return JobOutcome("done", result={"preset": ticket.params["preset"]})

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        return None


class CountingAdmission:
    """The AI rate limit as a count: ``allowed`` jobs per actor, then refusals."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.counts: dict[str, int] = {}

    async def admit(self, actor: str, project_id: str, kind: str) -> None:
        self.counts[actor] = self.counts.get(actor, 0) + 1
        if self.counts[actor] > self.allowed:
            raise JobRefusedError(
                f"rate limited: {actor} asked for {self.counts[actor]} jobs", retry_after_s=60
            )


@dataclass
class Running:
    host: FakeHost
    ledger: MemoryLedger
    runner: GatedRunner
    admission: CountingAdmission
    coordinator: JobCoordinator

    def status(self, job_id: str) -> str:
        return self.host.project.get_job(job_id).status.value

    def job_ids(self) -> Iterator[str]:
        return iter(job.id for job in self.host.project.list_jobs())


@pytest.fixture
def start() -> Callable[..., Any]:
    @asynccontextmanager
    async def running(
        *, max_concurrent: int = 1, max_active: int = 10, allowed: int = 100
    ) -> AsyncIterator[Running]:
        host, ledger = FakeHost(), MemoryLedger()
        runner, admission = GatedRunner(ledger), CountingAdmission(allowed)
        try:
            async with JobCoordinator(
                host,
                ledger,
                runner,
                admission=admission,
                max_concurrent=max_concurrent,
                max_active_per_requester=max_active,
                recover_orphans=False,
            ) as coordinator:
                yield Running(host, ledger, runner, admission, coordinator)
        finally:
            runner.close()

    return running


async def test_jobs_take_turns_across_requesters(start: Callable[..., Any]) -> None:
    async with start(max_concurrent=1) as world:
        with anyio.fail_after(10):
            first, _ = await world.coordinator.request(PROJECT, "mixing", {"preset": "pop"}, "a")
            assert (await world.runner.started.receive()).job_id == first
            for preset in PRESETS[1:4]:
                await world.coordinator.request(PROJECT, "mixing", {"preset": preset}, "a")
            await world.coordinator.request(PROJECT, "mixing", {"preset": "podcast"}, "b")
            await anyio.wait_all_tasks_blocked()
            assert world.coordinator.scheduler.waiting() == {"a": 3, "b": 1}
            order = ["a"]
            running = first
            for _ in range(4):
                world.runner.release(running)
                ticket = await world.runner.started.receive()
                order.append(ticket.requested_by)
                running = ticket.job_id
            world.runner.release(running)
    # A FIFO would have run a's four jobs before b's one.
    assert order == ["a", "b", "a", "a", "a"]


async def test_a_requester_over_the_cap_is_refused_with_the_reason(
    start: Callable[..., Any],
) -> None:
    async with start(max_concurrent=1, max_active=2) as world:
        with anyio.fail_after(10):
            first, _ = await world.coordinator.request(PROJECT, "mixing", {"preset": "pop"}, "a")
            await world.coordinator.request(PROJECT, "mixing", {"preset": "rock"}, "a")
            with pytest.raises(JobRefusedError, match="too many jobs") as refused:
                await world.coordinator.request(PROJECT, "mixing", {"preset": "acoustic"}, "a")
            assert refused.value.retry_after_s is not None
            assert await world.coordinator.active_jobs("a") == 2
            # Another requester is not affected; nor is "a" once a job has finished.
            await world.coordinator.request(PROJECT, "mixing", {"preset": "podcast"}, "b")
            assert (await world.runner.started.receive()).job_id == first
            world.runner.release(first)
            await anyio.wait_all_tasks_blocked()
            later, _ = await world.coordinator.request(
                PROJECT, "mixing", {"preset": "electronic"}, "a"
            )
            assert world.status(later) == "queued"
        failed = [job for job in world.host.project.list_jobs() if job.status.value == "failed"]
        assert [job.params["preset"] for job in failed] == ["acoustic"]
        assert "already has 2 jobs queued or running" in (failed[0].error or "")
        assert world.ledger.rows[failed[0].id].status == "failed"


async def test_document_jobs_count_against_the_peer_that_wrote_them(
    start: Callable[..., Any],
) -> None:
    async with start(max_concurrent=1, allowed=2) as world:
        with anyio.fail_after(10):
            admitted = [
                world.host.peer_requests("peer:user:c", preset, requested_by="user:a")
                for preset in PRESETS[:2]
            ]
            refused = world.host.peer_requests("peer:user:c", "acoustic")
            unknown = world.host.peer_requests("peer", "electronic")
            ticket = await world.runner.started.receive()
            assert ticket.requested_by == "user:c"
            await anyio.wait_all_tasks_blocked()
        # The forged requested_by is overwritten with the peer's actor, in the ledger too.
        for job_id in admitted:
            assert world.host.project.get_job(job_id).requested_by == "user:c"
            assert world.ledger.rows[job_id].requested_by == "user:c"
        assert world.status(refused) == "failed"
        assert (world.host.project.get_job(refused).error or "").startswith("rate limited: ")
        assert world.status(unknown) == "failed"
        assert "signed-in peer" in (world.host.project.get_job(unknown).error or "")
        assert world.admission.counts == {"user:c": 3}


async def test_document_jobs_count_against_the_cap(start: Callable[..., Any]) -> None:
    async with start(max_concurrent=1, max_active=1) as world:
        with anyio.fail_after(10):
            first = world.host.peer_requests("peer:apikey:k1", "pop")
            await world.runner.started.receive()
            second = world.host.peer_requests("peer:apikey:k1", "rock")
            await anyio.wait_all_tasks_blocked()
        assert world.status(first) == "running"
        assert world.status(second) == "failed"
        assert "too many jobs" in (world.host.project.get_job(second).error or "")

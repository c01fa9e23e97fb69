"""Fair turns for jobs: one requester's long queue does not hold another's job back."""

from __future__ import annotations

import anyio
import pytest

from jacameno.audio_services.jobs.fairness import FairScheduler


async def test_slots_go_to_requesters_in_turn() -> None:
    scheduler = FairScheduler(1)
    order: list[str] = []
    release = {name: anyio.Event() for name in ("a1", "a2", "a3", "a4", "b1", "c1")}

    async def job(name: str) -> None:
        async with scheduler.slot(name[0]):
            order.append(name)
            await release[name].wait()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            # User a queues four jobs (the first takes the only slot), then b and c one each.
            for name in ("a1", "a2", "a3", "a4", "b1", "c1"):
                group.start_soon(job, name)
                await anyio.wait_all_tasks_blocked()
            assert order == ["a1"]
            assert scheduler.waiting() == {"a": 3, "b": 1, "c": 1}
            while len(order) < len(release):
                release[order[-1]].set()
                await anyio.wait_all_tasks_blocked()
            release[order[-1]].set()
    # A FIFO would have run a2, a3, a4 before b1 and c1.
    assert order == ["a1", "b1", "c1", "a2", "a3", "a4"]
    assert scheduler.in_use == 0


async def test_a_requester_holding_fewer_slots_goes_first() -> None:
    scheduler = FairScheduler(2)
    order: list[str] = []
    release = {name: anyio.Event() for name in ("a1", "a2", "a3", "b1", "b2")}

    async def job(name: str) -> None:
        async with scheduler.slot(name[0]):
            order.append(name)
            await release[name].wait()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for name in ("a1", "b1", "a2", "a3", "b2"):
                group.start_soon(job, name)
                await anyio.wait_all_tasks_blocked()
            assert order == ["a1", "b1"]
            # b's slot frees up while a still holds one: b, holding none, goes next.
            release["b1"].set()
            await anyio.wait_all_tasks_blocked()
            assert order == ["a1", "b1", "b2"]
            for name in ("a1", "b2", "a2", "a3"):
                release[name].set()
    assert order == ["a1", "b1", "b2", "a2", "a3"]


async def test_a_cancelled_waiter_leaves_the_turn_order() -> None:
    scheduler = FairScheduler(1)
    order: list[str] = []
    hold = anyio.Event()
    waiting_b = anyio.CancelScope()

    async def job(name: str) -> None:
        with waiting_b if name == "b1" else anyio.CancelScope():
            async with scheduler.slot(name[0]):
                order.append(name)
                await hold.wait()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for name in ("a1", "b1", "c1"):
                group.start_soon(job, name)
                await anyio.wait_all_tasks_blocked()
            waiting_b.cancel()
            await anyio.wait_all_tasks_blocked()
            assert scheduler.waiting() == {"c": 1}
            hold.set()
    assert order == ["a1", "c1"]
    assert scheduler.in_use == 0


def test_a_scheduler_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        FairScheduler(0)

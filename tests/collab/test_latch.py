"""Latch: set once, awaited by many, an event only for waiters."""

from __future__ import annotations

import anyio

from jacameno.collab.latch import Latch


async def test_waiters_before_and_after_set_are_released() -> None:
    latch = Latch()
    released: list[int] = []

    async def waiter(n: int) -> None:
        await latch.wait()
        released.append(n)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for n in range(3):
                group.start_soon(waiter, n)
            await anyio.wait_all_tasks_blocked()
            assert released == []
            assert not latch.is_set()
            latch.set()
        assert sorted(released) == [0, 1, 2]
        await latch.wait()  # already set: returns at once
        latch.set()
        assert latch.is_set()


async def test_an_unawaited_latch_makes_no_event() -> None:
    latch = Latch()
    latch.set()
    assert latch._event is None

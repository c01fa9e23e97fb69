"""Fire several requests at the same moment, to make races happen in tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx

Call = Callable[[], Awaitable[httpx.Response]]


async def at_once(*calls: Call) -> list[httpx.Response]:
    """Run ``calls`` concurrently, released together once every task is waiting; their
    answers in the order given."""
    release = anyio.Event()
    answers: dict[int, httpx.Response] = {}
    waiting = len(calls)

    async def run(index: int, call: Call) -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            release.set()
        await release.wait()
        answers[index] = await call()

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(run, index, call)
    return [answers[index] for index in range(len(calls))]

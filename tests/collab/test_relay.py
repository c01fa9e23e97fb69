"""One project spread over several server instances sharing one database and one Redis:
edits and presence cross instances, and nothing is lost when Redis goes away."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx
import pycrdt
import pytest

from tests.collab.conftest import CollabWorld
from tests.conftest import service_missing
from tests.support.app_server import free_port
from tests.support.node_peer import NodePeer

pytestmark = pytest.mark.redis
TIMEOUT_S = 30


def lyrics(doc: pycrdt.Doc[Any]) -> str:
    return str(doc.get("lyrics", type=pycrdt.Text))


@asynccontextmanager
async def instances(
    start_world: Callable[..., Any], redis_url: str, count: int
) -> AsyncIterator[list[CollabWorld]]:
    """``count`` server instances on one database and one Redis, serving one project."""
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(start_world(redis_url=redis_url))
        worlds = [first]
        for _ in range(count - 1):
            worlds.append(
                await stack.enter_async_context(start_world(reuse=first, redis_url=redis_url))
            )
        yield worlds


async def test_edits_on_three_instances_converge(
    start_world: Callable[..., Any], redis_url: str
) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with (
            instances(start_world, redis_url, 3) as (a, b, c),
            a.peer(a.editor) as on_a,
            b.peer(b.owner) as on_b,
            c.peer(c.editor) as on_c,
        ):
            for peer in (on_a, on_b, on_c):
                await peer.wait_synced()
            for i, peer in enumerate((on_a, on_b, on_c)):
                peer.doc.get("lyrics", type=pycrdt.Text).insert(0, f"line{i} ")
            peer_b_bpm = on_b.doc.get("meta", type=pycrdt.Map)
            peer_b_bpm["bpm"] = 97.0
            expected = len("line0 line1 line2 ")
            for peer in (on_a, on_b, on_c):
                await peer.wait_for(lambda p=peer: len(lyrics(p.doc)) == expected)
            assert lyrics(on_a.doc) == lyrics(on_b.doc) == lyrics(on_c.doc)
            await on_c.wait_for(lambda: on_c.doc.get("meta", type=pycrdt.Map).get("bpm") == 97.0)
            # A fresh client on any instance sees everything.
            for world in (a, b, c):
                async with world.peer(world.owner) as fresh:
                    await fresh.wait_synced()
                    assert lyrics(fresh.doc) == lyrics(on_a.doc)


@pytest.mark.node
async def test_yjs_clients_on_two_instances_converge_with_a_python_peer(
    start_world: Callable[..., Any], redis_url: str
) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with (
            instances(start_world, redis_url, 2) as (a, b),
            NodePeer(label="js-a") as js_a,
            NodePeer(label="js-b") as js_b,
            b.peer(b.owner) as python_b,
        ):
            for js, world in ((js_a, a), (js_b, b)):
                await js.connect(
                    f"{world.server.ws_url}/collab",
                    world.project_id,
                    params={"token": world.editor.access_token},
                    per_message_deflate=False,
                )
                await js.wait_synced(timeout_s=10)
            await python_b.wait_synced()
            async with anyio.create_task_group() as group:
                group.start_soon(js_a.text_insert, "lyrics", 0, "from A ")
                group.start_soon(js_b.text_insert, "lyrics", 0, "from B ")
            python_b.doc.get("lyrics", type=pycrdt.Text).insert(0, "py ")
            total = len("from A from B py ")
            for js in (js_a, js_b):
                await js.wait_for("text_length", name="lyrics", length=total)
            await python_b.wait_for(lambda: len(lyrics(python_b.doc)) == total)
            roots = {"lyrics": "text"}
            assert (await js_a.state(roots)).json == (await js_b.state(roots)).json
            assert (await js_a.text_get("lyrics")) == lyrics(python_b.doc)


async def test_presence_crosses_instances_and_reaches_a_late_joiner(
    start_world: Callable[..., Any], redis_url: str
) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with instances(start_world, redis_url, 3) as (a, b, c):
            async with a.peer(a.editor) as alice, b.peer(b.owner) as bob:
                await alice.wait_synced()
                await bob.wait_synced()
                alice.set_awareness({"user": {"name": "Alice"}})
                await bob.wait_for(
                    lambda: {"user": {"name": "Alice"}} in bob.awareness_states.values()
                )
                # Instance C loads the room only now: its first snapshot holds Alice.
                async with c.peer(c.viewer) as late:
                    await late.wait_synced()
                    await late.wait_for(
                        lambda: {"user": {"name": "Alice"}} in late.awareness_states.values()
                    )
                # Alice leaves: Bob's instance drops her state at once.
            async with b.peer(b.owner) as again:
                await again.wait_synced()
                assert {"user": {"name": "Alice"}} not in again.awareness_states.values()


# --------------------------------------------------------------------------- Redis outage


@contextmanager
def own_redis() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A redis-server this test owns: its URL, and functions to stop and start it."""
    binary = shutil.which("redis-server")
    if binary is None:
        service_missing("redis-server is not installed")
    assert binary is not None
    port = free_port()
    process: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process.append(
            subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def stop() -> None:
        while process:
            running = process.pop()
            running.kill()
            running.wait(10)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", stop, start
    finally:
        stop()


async def _wait_redis(url: str, *, up: bool) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        while True:
            try:
                await client.ping()
                if up:
                    return
            except (RedisError, OSError):
                if not up:
                    return
            await anyio.sleep(0.05)
    finally:
        await client.aclose()


async def _readyz(world: CollabWorld) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=world.server.base_url) as http:
        answer = await http.get("/readyz")
        body: dict[str, Any] = answer.json()
        body["status_code"] = answer.status_code
        return body


async def test_peers_converge_after_redis_comes_back(start_world: Callable[..., Any]) -> None:
    with own_redis() as (url, stop, start), anyio.fail_after(60):
        await _wait_redis(url, up=True)
        async with (
            instances(start_world, url, 2) as (a, b),
            a.peer(a.editor) as on_a,
            b.peer(b.owner) as on_b,
        ):
            await on_a.wait_synced()
            await on_b.wait_synced()
            on_a.doc.get("lyrics", type=pycrdt.Text).insert(0, "before ")
            await on_b.wait_for(lambda: lyrics(on_b.doc) == "before ")

            stop()
            await _wait_redis(url, up=False)
            # Each instance keeps serving (and storing) its own peers meanwhile.
            on_a.doc.get("lyrics", type=pycrdt.Text).insert(0, "A-alone ")
            on_b.doc.get("meta", type=pycrdt.Map)["title"] = "B alone"
            await on_a.flush()
            await on_b.flush()
            ready = await _readyz(a)
            assert ready["status_code"] == 503, ready

            start()
            await _wait_redis(url, up=True)
            await on_b.wait_for(lambda: lyrics(on_b.doc) == "A-alone before ")
            await on_a.wait_for(
                lambda: on_a.doc.get("meta", type=pycrdt.Map).get("title") == "B alone"
            )
            assert (await _readyz(b))["status_code"] == 200


# --------------------------------------------------------------------------- jobs


async def test_a_job_queued_on_one_instance_runs_once_and_reaches_the_other(
    start_world: Callable[..., Any], redis_url: str
) -> None:
    """Both instances' coordinators see the queued job (B through the relay); the
    database claim lets exactly one run it, and B's peers get the outcome."""
    from tests.api.test_uploads import tone_wav, upload, wait_job

    jobs = {"job_runner": "process", "job_warm_up": False, "job_workers": 1}
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(start_world(redis_url=redis_url, **jobs))
        b = await stack.enter_async_context(start_world(reuse=a, redis_url=redis_url, **jobs))
        on_b = await stack.enter_async_context(b.peer(b.owner))
        with anyio.fail_after(60):
            await on_b.wait_synced()  # B holds the room before the job is queued on A
            response = await upload(a.api, a.owner, a.project_id, tone_wav(1.0), name="Bass")
            assert response.status_code == 201, response.text
            job_id = response.json()["job_id"]
            job = await wait_job(b.server, b.owner, a.project_id, job_id)
            assert job.status.value == "done", job.error
            row = await a.api.call("GET", f"/api/v1/jobs/{job_id}", a.owner.access_token)
            assert row.json()["attempts"] == 1

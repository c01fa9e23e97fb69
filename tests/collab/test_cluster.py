"""Real ``jacameno serve`` processes on one PostgreSQL and one Redis (issue #14).

Yjs clients (y-websocket in Node) spread over three processes edit one project at
once and converge; a fresh client on any process sees everything. Then processes
are SIGKILLed mid-editing, again and again, and restarted on their ports: their
peers come back (on their own, or pointed at the restarted or another process),
everyone converges, and no word any peer ever had in its document is lost, not
even from the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pycrdt
import pytest

from jacameno.collab.client import CollabClient
from tests.support.api_client import Account, ApiClient
from tests.support.cluster import Cluster, Instance
from tests.support.node_peer import NodePeer, b64encode

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.node,
    pytest.mark.slow,
]

INSTANCES = 3
PEERS_PER_INSTANCE = 2
ROOTS = {"lyrics": "text", "words": "map"}
#: Pause between two words of one typist: a fast typist, not a flood (seconds).
TYPING_PAUSE_S = 0.05
#: Words each peer must have seen of every other peer before the next step of a round.
PROGRESS_WORDS = 5


@dataclass
class Project:
    owner: Account
    editor: Account
    project_id: str


@dataclass
class Typist:
    """A yjs peer, the instance it talks to, and every word it typed."""

    label: str
    peer: NodePeer
    instance: int
    account: Account
    typed: list[str] = field(default_factory=list)
    #: Words typed in the current round.
    in_round: int = 0


async def make_project(cluster: Cluster) -> Project:
    """Accounts and a project made over HTTP, each call on another instance."""
    apis = []
    async with AsyncExitStack() as stack:
        for instance in cluster.instances:
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=instance.base_url, timeout=30)
            )
            apis.append(ApiClient(http))
        owner = await apis[0].signup()
        editor = await apis[1 % len(apis)].signup()
        project_id = await apis[2 % len(apis)].create_project(owner, name="Cluster song")
        await apis[0].add_member(owner, project_id, editor, "editor")
    return Project(owner, editor, project_id)


async def connect(peer: NodePeer, instance: Instance, project_id: str, token: str) -> None:
    await peer.connect(
        f"{instance.ws_url}/collab",
        project_id,
        params={"token": token},
        per_message_deflate=False,
        max_backoff_ms=200,
    )


@asynccontextmanager
async def typists(cluster: Cluster, project: Project) -> AsyncIterator[list[Typist]]:
    """``PEERS_PER_INSTANCE`` synced yjs peers on every instance (owner and editor)."""
    async with AsyncExitStack() as stack:
        result: list[Typist] = []
        for instance in cluster.instances:
            for n in range(PEERS_PER_INSTANCE):
                label = f"i{instance.index}p{n}"
                account = project.owner if n % 2 else project.editor
                peer = await stack.enter_async_context(NodePeer(label=label))
                await connect(peer, instance, project.project_id, account.access_token)
                result.append(Typist(label, peer, instance.index, account))
        for typist in result:
            await typist.peer.wait_synced(timeout_s=20)
        yield result


def tag(label: str, round_: int, n: int) -> str:
    return f"{label}r{round_}w{n:04d}"


async def type_word(typist: Typist, word: str) -> None:
    """One word at the start of the lyrics, and its key in ``words`` (to wait on)."""
    await typist.peer.transact(
        [
            {"cmd": "text_insert", "name": "lyrics", "index": 0, "text": f"{word} "},
            {"cmd": "map_set", "name": "words", "key": word, "value": 1},
        ]
    )
    typist.typed.append(word)


async def keep_typing(typist: Typist, round_: int, stop: anyio.Event) -> None:
    typist.in_round = 0
    while not stop.is_set():
        await type_word(typist, tag(typist.label, round_, typist.in_round))
        typist.in_round += 1
        await anyio.sleep(TYPING_PAUSE_S)


async def wait_word(typists: Iterable[Typist], word: str, *, timeout_s: float = 20) -> None:
    async with anyio.create_task_group() as group:
        for typist in typists:
            group.start_soon(
                lambda t=typist: t.peer.wait_for(
                    "map_key", name="words", key=word, timeout_s=timeout_s
                )
            )


async def wait_progress(
    watchers: Sequence[Typist], writers: Sequence[Typist], round_: int, n: int
) -> None:
    """Every watcher has word ``n`` of this round from every writer but itself."""
    async with anyio.create_task_group() as group:
        for writer in writers:
            others = [w for w in watchers if w is not writer]
            group.start_soon(wait_word, others, tag(writer.label, round_, n))


def words_of(text: str) -> list[str]:
    return text.split()


async def words_seen(typist: Typist) -> set[str]:
    return set(words_of(await typist.peer.text_get("lyrics")))


async def converge(all_typists: Sequence[Typist], *, timeout_s: float = 30) -> pycrdt.Doc[Any]:
    """Wait until every peer holds the union of all the peers' documents; return it."""
    union: pycrdt.Doc[Any] = pycrdt.Doc()
    for typist in all_typists:
        union.apply_update((await typist.peer.state(ROOTS)).update)
    state_vector = union.get_state()
    async with anyio.create_task_group() as group:
        for typist in all_typists:
            group.start_soon(
                lambda t=typist: t.peer.wait_for(
                    "state_vector_equals",
                    state_vector=b64encode(state_vector),
                    timeout_s=timeout_s,
                )
            )
    return union


async def assert_same_documents(all_typists: Sequence[Typist], union: pycrdt.Doc[Any]) -> str:
    """Every peer's lyrics and words are the union's; returns the lyrics."""
    expected = str(union.get("lyrics", type=pycrdt.Text))
    for typist in all_typists:
        state = await typist.peer.state(ROOTS)
        assert state.json["lyrics"] == expected, typist.label
        assert set(state.json["words"]) == set(words_of(expected)), typist.label
    return expected


async def fresh_lyrics(instance: Instance, project: Project) -> str:
    """The lyrics a new Python client gets in its first sync from ``instance``."""
    async with CollabClient(
        f"{instance.ws_url}/collab/{project.project_id}", token=project.owner.access_token
    ) as fresh:
        await fresh.wait_synced()
        return str(fresh.doc.get("lyrics", type=pycrdt.Text))


async def fresh_sees(instance: Instance, project: Project, words: set[str]) -> None:
    """A new Python client on ``instance`` comes to hold every one of ``words``."""
    async with CollabClient(
        f"{instance.ws_url}/collab/{project.project_id}", token=project.owner.access_token
    ) as fresh:
        await fresh.wait_synced()
        text = fresh.doc.get("lyrics", type=pycrdt.Text)
        try:
            with anyio.fail_after(10):
                await fresh.wait_for(lambda: words <= set(words_of(str(text))))
        except TimeoutError:
            missing = sorted(words - set(words_of(str(text))))
            pytest.fail(f"instance {instance.index} lacks {len(missing)} words: {missing[:8]}")


# --------------------------------------------------------------------------- converge


async def test_yjs_peers_on_three_processes_converge(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    words_each = 25
    with anyio.fail_after(60):
        async with Cluster(tmp_path / "cluster", postgres_url, redis_url, count=INSTANCES) as cl:
            project = await make_project(cl)
            async with typists(cl, project) as everyone:
                async with anyio.create_task_group() as group:
                    for typist in everyone:

                        async def burst(t: Typist = typist) -> None:
                            for n in range(words_each):
                                await type_word(t, tag(t.label, 0, n))

                        group.start_soon(burst)
                # Each peer's last word reached every other peer, on every instance.
                await wait_progress(everyone, everyone, 0, words_each - 1)
                union = await converge(everyone)
                lyrics = await assert_same_documents(everyone, union)
                typed = [w for t in everyone for w in t.typed]
                assert sorted(words_of(lyrics)) == sorted(typed)
                assert len(typed) == INSTANCES * PEERS_PER_INSTANCE * words_each
                # A fresh client on each instance sees everything in its first sync.
                for instance in cl.instances:
                    assert sorted(words_of(await fresh_lyrics(instance, project))) == sorted(
                        typed
                    ), f"instance {instance.index}"
                # So does a fresh yjs client.
                async with NodePeer(label="late") as late:
                    await connect(late, cl[2], project.project_id, project.editor.access_token)
                    await late.wait_synced()
                    assert await late.text_get("lyrics") == lyrics


# --------------------------------------------------------------------------- SIGKILL

#: How a killed instance's peers come back: y-websocket reconnecting on its own to the
#: restarted process; held offline (so that the restarted process is read from the
#: database alone first), then sent back to it; held, then sent to another instance.
COMEBACKS = ("auto", "held", "moved")


async def test_sigkill_mid_editing_loses_nothing(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    with anyio.fail_after(80):
        async with Cluster(tmp_path / "cluster", postgres_url, redis_url, count=INSTANCES) as cl:
            project = await make_project(cl)
            #: Every word each peer had in its own document at some point.
            had: dict[str, set[str]] = {}
            async with typists(cl, project) as everyone:
                for round_, comeback in enumerate(COMEBACKS):
                    victim = round_ % INSTANCES
                    await sigkill_round(cl, project, everyone, round_, victim, comeback, had)
                union = await converge(everyone)
                lyrics = await assert_same_documents(everyone, union)
                final = words_of(lyrics)
                typed = [w for t in everyone for w in t.typed]
                assert len(final) == len(set(final)), "a word appears twice"
                assert set(final) == set(typed)
                for label, words in had.items():
                    assert words <= set(final), f"{label} had {sorted(words - set(final))[:5]}"
                for instance in cl.instances:
                    # An instance without peers of its own may be a relay read behind.
                    await fresh_sees(instance, project, set(typed))
            # Every peer has gone: the database alone holds everything, even after every
            # process is SIGKILLed.
            for instance in cl.instances:
                cl.kill(instance.index)
            await cl.restart(1)
            assert sorted(words_of(await fresh_lyrics(cl[1], project))) == sorted(typed)


async def sigkill_round(
    cl: Cluster,
    project: Project,
    everyone: list[Typist],
    round_: int,
    victim: int,
    comeback: str,
    had: dict[str, set[str]],
) -> None:
    """Kill ``victim`` while everybody types; restart it; its peers come back."""
    killed = [t for t in everyone if t.instance == victim]
    survivors = [t for t in everyone if t.instance != victim]
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        for typist in everyone:
            group.start_soon(keep_typing, typist, round_, stop)
        # Everybody types and hears everybody else, across all three instances.
        await wait_progress(everyone, everyone, round_, PROGRESS_WORDS)
        cl.kill(victim)
        if comeback != "auto":
            for typist in killed:
                await typist.peer.disconnect()
        # What the survivors received from the killed instance's peers: relayed, so in
        # the database, whatever happens next.
        relayed: set[str] = set()
        for typist in everyone:
            seen = await words_seen(typist)
            had.setdefault(typist.label, set()).update(seen)
            if typist in survivors:
                relayed |= {w for w in seen if any(w.startswith(k.label) for k in killed)}
        assert relayed, "nothing was relayed from the victim before the kill"
        # The survivors go on together; the victim's peers type offline.
        await wait_progress(survivors, survivors, round_, PROGRESS_WORDS * 3)
        offline_mark = [len(t.typed) for t in killed]

        await cl.restart(victim)
        target = cl[victim] if comeback != "moved" else cl[(victim + 1) % len(cl)]
        if comeback != "auto":
            # Read from the database (and the relay) alone: the victim's peers are away.
            stored = set(words_of(await fresh_lyrics(cl[victim], project)))
            missing = relayed - stored
            assert not missing, f"round {round_}: lost {sorted(missing)[:5]}"
            for typist in killed:
                await connect(typist.peer, target, project.project_id, typist.account.access_token)
                typist.instance = target.index
        for typist in killed:
            await typist.peer.wait_synced(timeout_s=20)
        # What they typed offline reaches everybody; they hear the survivors again.
        for typist, mark in zip(killed, offline_mark, strict=True):
            await wait_word(everyone, typist.typed[mark - 1])
        await wait_progress(everyone, everyone, round_, max(t.in_round for t in everyone) + 1)
        stop.set()
    for typist in everyone:
        had.setdefault(typist.label, set()).update(await words_seen(typist))

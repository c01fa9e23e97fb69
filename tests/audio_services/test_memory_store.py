"""The per-user AI memory: isolation between users, ranking by meaning, forgetting,
style versions and profiles, preset recommendations, and a folder that outlives a run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import lancedb
import numpy as np
import numpy.typing as npt
import pytest

from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.memory.embedder import Embedder, WordLlamaEmbedder
from jacameno.audio_services.memory.store import (
    MemoryInputError,
    MemoryKind,
    MemoryStoreError,
    StyleMemory,
    Verdict,
)

RAIN = [
    "tears fall like rain on my window",
    "the rain keeps falling and I keep crying",
    "storm clouds weeping over me tonight",
]
MONEY = ["money in the bank and cash on the table", "counting dollars at the bank all day"]
ACOUSTIC = [
    "acoustic folk ballad with soft guitar and a female voice",
    "quiet acoustic love song, fingerpicked guitar",
]
TRAP = [
    "hard trap beat with a heavy 808 bass",
    "aggressive drill track with sliding 808s",
    "club banger with pounding 808 kick and trap hats",
]

MakeMemory = Callable[..., StyleMemory]


@pytest.fixture(scope="session")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()  # stateless once loaded: one model for the session


@pytest.fixture
def make_memory(tmp_path: Path, embedder: WordLlamaEmbedder) -> MakeMemory:
    """Factory: ``async with make_memory() as memory`` on ``tmp_path/memory``."""

    def make(
        folder: Path | None = None, *, optimize_every: int = 200, read_consistency_s: float = 0.5
    ) -> StyleMemory:
        uri = str(folder or tmp_path / "memory")
        return StyleMemory(
            uri, embedder, optimize_every=optimize_every, read_consistency_s=read_consistency_s
        )

    return make


async def test_nothing_of_one_user_reaches_another(make_memory: MakeMemory) -> None:
    async with make_memory() as memory:
        ann = await memory.remember_many("ann", MemoryKind.LYRICS, RAIN, Verdict.WRITTEN)
        bob = await memory.remember_many("bob", MemoryKind.LYRICS, MONEY, Verdict.WRITTEN)
        found = await memory.nearest("bob", RAIN[0], k=10)
        assert {item.id for item, _ in found} == {item.id for item in bob}
        assert {item.user_id for item in await memory.items("bob")} == {"bob"}
        assert await memory.nearest("carol", RAIN[0]) == []
        assert await memory.items("carol") == []
        # Bob cannot forget Ann's line by naming its id.
        assert await memory.forget("bob", ann[0].id) is False
        assert len(await memory.items("ann")) == len(RAIN)
        assert await memory.forget_user("ann") == len(RAIN)
        assert len(await memory.items("bob")) == len(MONEY)
        # Ids that share a prefix are different users.
        await memory.remember("bob2", MemoryKind.LYRICS, RAIN[0], Verdict.WRITTEN)
        assert {item.user_id for item in await memory.items("bob")} == {"bob"}


async def test_nearest_ranks_the_closest_meaning_first(make_memory: MakeMemory) -> None:
    async with make_memory() as memory:
        await memory.remember_many("ann", MemoryKind.LYRICS, MONEY + RAIN, Verdict.ACCEPTED)
        found = await memory.nearest("ann", "crying in the rain", k=5)
        texts = [item.text for item, _ in found]
        assert set(texts[:3]) == set(RAIN)
        similarities = [similarity for _, similarity in found]
        assert similarities == sorted(similarities, reverse=True)
        assert similarities[0] > 0.6 > 0.2 > similarities[-1]
        money = await memory.nearest("ann", "cash from the bank", k=2)
        assert {item.text for item, _ in money} == set(MONEY)


async def test_nearest_keeps_to_the_kind_and_verdicts_asked(make_memory: MakeMemory) -> None:
    async with make_memory() as memory:
        await memory.remember("ann", MemoryKind.LYRICS, RAIN[0], Verdict.REJECTED)
        await memory.remember("ann", MemoryKind.MIX_PRESET, RAIN[1], Verdict.CHOSEN)
        kept = await memory.remember("ann", MemoryKind.LYRICS, MONEY[0], Verdict.EDITED)
        found = await memory.nearest("ann", "crying in the rain", k=10)
        assert [item.id for item, _ in found] == [kept.id]
        rejected = await memory.nearest("ann", "crying in the rain", verdicts=[Verdict.REJECTED])
        assert [item.text for item, _ in rejected] == [RAIN[0]]


async def test_forgetting_removes_rows_and_changes_the_style_version(
    make_memory: MakeMemory,
) -> None:
    async with make_memory() as memory:
        empty = await memory.style_version("ann")
        first, second = await memory.remember_many(
            "ann", MemoryKind.LYRICS, RAIN[:2], Verdict.WRITTEN
        )
        two = await memory.style_version("ann")
        assert two != empty
        bob_before = await memory.style_version("bob")
        assert await memory.forget("ann", first.id) is True
        one = await memory.style_version("ann")
        assert one not in {empty, two}
        assert [item.id for item in await memory.items("ann")] == [second.id]
        assert await memory.forget("ann", first.id) is False
        assert await memory.nearest("ann", RAIN[0]) == [(second, pytest.approx(0.71, abs=0.05))]
        assert await memory.forget_user("ann") == 1
        assert await memory.items("ann") == []
        assert await memory.style_version("ann") == empty  # the same (empty) memory again
        assert await memory.forget_user("ann") == 0
        assert await memory.style_version("bob") == bob_before


async def test_items_come_newest_first(make_memory: MakeMemory) -> None:
    async with make_memory() as memory:
        batch = await memory.remember_many("ann", MemoryKind.LYRICS, RAIN, Verdict.WRITTEN)
        last = await memory.remember("ann", MemoryKind.LYRICS, MONEY[0], Verdict.ACCEPTED)
        items = await memory.items("ann")
        assert items == [last, *reversed(batch)]
        assert [item.created_at for item in items] == sorted(
            (item.created_at for item in items), reverse=True
        )
        assert await memory.items("ann", limit=2) == items[:2]


async def test_an_item_reads_back_as_written(make_memory: MakeMemory) -> None:
    async with make_memory() as memory:
        item = await memory.remember(
            "user:1",
            MemoryKind.LYRICS,
            "  neon rain on the avenue \n",
            Verdict.EDITED,
            project_id="proj-9.a",
            style="synthwave",
        )
        assert item.text == "neon rain on the avenue"
        assert await memory.items("user:1") == [item]
        assert item.as_json() == {
            "id": item.id,
            "user_id": "user:1",
            "kind": "lyrics",
            "text": "neon rain on the avenue",
            "verdict": "edited",
            "project_id": "proj-9.a",
            "style": "synthwave",
            "created_at": item.created_at,
        }
        assert memory.embedding_model == {"name": "wordllama-l2_supercat-256", "dimensions": 256}


@pytest.mark.parametrize(
    "user_id",
    ["", "x' OR '1'='1", "ann'", "ann bob", 'a"b', "a;b", "a\nb", "é", "a" * 129, "a%"],
)
async def test_unsafe_ids_are_refused_before_any_query(
    make_memory: MakeMemory, user_id: str
) -> None:
    async with make_memory() as memory:
        kept = await memory.remember("ann", MemoryKind.LYRICS, RAIN[0], Verdict.WRITTEN)
        with pytest.raises(MemoryInputError, match="user_id must be"):
            await memory.remember(user_id, MemoryKind.LYRICS, RAIN[1], Verdict.WRITTEN)
        with pytest.raises(MemoryInputError, match="user_id must be"):
            await memory.nearest(user_id, "rain")
        with pytest.raises(MemoryInputError, match="user_id must be"):
            await memory.forget_user(user_id)
        with pytest.raises(MemoryInputError, match="item_id must be"):
            await memory.forget("ann", user_id)
        with pytest.raises(MemoryInputError, match="project_id must be"):
            await memory.remember(
                "ann", MemoryKind.LYRICS, "x", Verdict.WRITTEN, project_id=user_id
            )
        assert await memory.items("ann") == [kept]


@pytest.mark.parametrize("text", ["", "   \n\t", "a" * 2001])
async def test_empty_or_overlong_text_is_refused(make_memory: MakeMemory, text: str) -> None:
    async with make_memory() as memory:
        with pytest.raises(MemoryInputError, match="text"):
            await memory.remember("ann", MemoryKind.LYRICS, text, Verdict.WRITTEN)
        with pytest.raises(MemoryInputError, match="text"):
            await memory.remember_many("ann", MemoryKind.LYRICS, [RAIN[0], text], Verdict.WRITTEN)
        with pytest.raises(MemoryInputError, match="query"):
            await memory.nearest("ann", text)
        assert await memory.items("ann") == []  # a bad line stops the whole batch


async def test_misused_arguments_fail_with_a_message(make_memory: MakeMemory) -> None:
    async with make_memory() as memory:
        with pytest.raises(MemoryInputError, match="list"):
            await memory.remember_many("ann", MemoryKind.LYRICS, RAIN[0], Verdict.WRITTEN)  # type: ignore[arg-type]
        with pytest.raises(MemoryInputError, match="kind must be"):
            await memory.remember("ann", "poem", RAIN[0], Verdict.WRITTEN)  # type: ignore[arg-type]
        with pytest.raises(MemoryInputError, match="verdict must be"):
            await memory.remember("ann", MemoryKind.LYRICS, RAIN[0], "liked")  # type: ignore[arg-type]
        with pytest.raises(MemoryInputError, match="k must be"):
            await memory.nearest("ann", "rain", k=0)
        with pytest.raises(MemoryInputError, match="at least one"):
            await memory.nearest("ann", "rain", verdicts=())
        with pytest.raises(MemoryInputError, match="preset kind"):
            await memory.recommend_preset("ann", MemoryKind.LYRICS, "rain")
        assert issubclass(MemoryInputError, MemoryStoreError)
        assert issubclass(MemoryStoreError, AudioError)


async def test_a_store_that_is_not_open_says_so(make_memory: MakeMemory) -> None:
    store = make_memory()
    with pytest.raises(MemoryStoreError, match="async with"):
        await store.items("ann")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"optimize_every": 0}, "optimize_every"),
        ({"read_consistency_s": -1.0}, "read_consistency_s"),
        ({"read_consistency_s": 601.0}, "read_consistency_s"),
    ],
)
def test_bad_settings_stop_the_store_at_once(
    embedder: WordLlamaEmbedder, tmp_path: Path, options: dict[str, float], message: str
) -> None:
    with pytest.raises(MemoryInputError, match=message):
        StyleMemory(str(tmp_path), embedder, **options)  # type: ignore[arg-type]


async def test_the_style_profile_is_the_mean_of_own_lyrics(
    make_memory: MakeMemory, embedder: WordLlamaEmbedder
) -> None:
    async with make_memory() as memory:
        assert await memory.style_profile("ann") is None
        await memory.remember_many("ann", MemoryKind.LYRICS, RAIN, Verdict.WRITTEN)
        profile = await memory.style_profile("ann")
        assert profile is not None
        assert profile.dtype == np.float32
        assert profile.shape == (256,)
        assert float(np.linalg.norm(profile)) == pytest.approx(1.0, abs=1e-5)
        vectors = embedder.embed(RAIN)
        mean = vectors.mean(axis=0)
        np.testing.assert_allclose(profile, mean / np.linalg.norm(mean), atol=1e-5)
        # Rejected lines, presets and other users leave it alone.
        await memory.remember_many("ann", MemoryKind.LYRICS, MONEY, Verdict.REJECTED)
        await memory.remember("ann", MemoryKind.MIX_PRESET, "warm", Verdict.CHOSEN, style=MONEY[0])
        await memory.remember_many("bob", MemoryKind.LYRICS, MONEY, Verdict.WRITTEN)
        np.testing.assert_allclose(await memory.style_profile("ann"), profile, atol=1e-6)
        bob = await memory.style_profile("bob")
        assert bob is not None
        assert float(profile @ vectors[0]) > 0.6 > 0.2 > float(bob @ vectors[0])


async def test_the_preset_chosen_for_similar_contexts_is_recommended(
    make_memory: MakeMemory,
) -> None:
    async with make_memory() as memory:
        mix, chosen = MemoryKind.MIX_PRESET, Verdict.CHOSEN
        for context in ACOUSTIC:
            await memory.remember("ann", mix, "warm-vocal", chosen, style=context)
        for context in TRAP:  # chosen more often, but for other music
            await memory.remember("ann", mix, "club-punch", chosen, style=context)
        for _ in range(5):  # turned down in the very context asked about
            await memory.remember("ann", mix, "bright-air", Verdict.REJECTED, style=ACOUSTIC[0])
            await memory.remember("bob", mix, "bob-preset", chosen, style=ACOUSTIC[0])
        await memory.remember("ann", MemoryKind.MASTER_PRESET, "loud", chosen, style=ACOUSTIC[0])
        gentle = "gentle acoustic guitar song with a soft voice"
        assert await memory.recommend_preset("ann", mix, gentle) == "warm-vocal"
        assert await memory.recommend_preset("ann", mix, "trap anthem, booming 808") == "club-punch"
        assert await memory.recommend_preset("ann", MemoryKind.MASTER_PRESET, gentle) == "loud"
        assert await memory.recommend_preset("bob", mix, gentle) == "bob-preset"
        assert await memory.recommend_preset("carol", mix, gentle) is None
        assert await memory.recommend_preset("ann", MemoryKind.MASTER_PRESET, TRAP[0]) is None


async def test_a_reopened_store_keeps_its_rows(make_memory: MakeMemory) -> None:
    first = make_memory()
    async with first:
        written = await first.remember_many("ann", MemoryKind.LYRICS, RAIN, Verdict.WRITTEN)
        version = await first.style_version("ann")
    with pytest.raises(MemoryStoreError, match="not open"):
        await first.items("ann")
    async with make_memory() as second:
        assert await second.items("ann") == list(reversed(written))
        assert await second.style_version("ann") == version
        found = await second.nearest("ann", "crying in the rain", k=1)
        assert found[0][0] in written


async def test_two_stores_on_one_folder_see_each_others_writes(make_memory: MakeMemory) -> None:
    # Checked on every read here; the default (0.5 s) shows them within half a second.
    async with (
        make_memory(read_consistency_s=0.0) as one,
        make_memory(read_consistency_s=0.0) as other,
    ):
        assert await other.items("ann") == []
        await one.remember("ann", MemoryKind.LYRICS, RAIN[0], Verdict.WRITTEN)
        assert [item.text for item in await other.items("ann")] == [RAIN[0]]
        assert await other.style_version("ann") == await one.style_version("ann")


class _OtherModel:
    """An :class:`Embedder` of another model: 8-d vectors."""

    name = "other-model-8"
    dimensions = 8

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.full((len(texts), 8), 8**-0.5, dtype=np.float32)


async def test_a_folder_written_by_another_model_is_refused(
    make_memory: MakeMemory, tmp_path: Path
) -> None:
    async with make_memory():
        pass
    other: Embedder = _OtherModel()
    with pytest.raises(MemoryStoreError, match="other-model-8"):
        async with StyleMemory(str(tmp_path / "memory"), other):
            pass
    async with StyleMemory(str(tmp_path / "other"), other) as fresh:
        await fresh.remember("ann", MemoryKind.LYRICS, "x", Verdict.WRITTEN)
        assert len(await fresh.items("ann")) == 1


async def _unindexed_rows(folder: Path) -> int:
    connection = await lancedb.connect_async(str(folder))
    table = await connection.open_table("memory")
    stats = await table.index_stats("user_id_idx")
    assert stats is not None
    return stats.num_unindexed_rows


async def test_writes_are_folded_into_the_user_index(
    make_memory: MakeMemory, tmp_path: Path
) -> None:
    folder = tmp_path / "memory"
    async with make_memory(optimize_every=1000) as manual:
        await manual.remember_many("ann", MemoryKind.LYRICS, RAIN, Verdict.WRITTEN)
        assert await _unindexed_rows(folder) == len(RAIN)
        await manual.optimize()
        assert await _unindexed_rows(folder) == 0
    # Every third row: the one batch starts one run in the background, which closing awaits.
    async with make_memory(optimize_every=3) as automatic:
        await automatic.remember_many("bob", MemoryKind.LYRICS, MONEY + RAIN, Verdict.WRITTEN)
    assert await _unindexed_rows(folder) == 0
    async with make_memory() as reopened:
        assert len(await reopened.items("bob")) == len(MONEY + RAIN)


async def test_stores_opened_together_on_one_folder_share_one_index(
    make_memory: MakeMemory, tmp_path: Path
) -> None:
    """Server processes starting together over one store race to index it: each opens
    (a CI run once lost a process to lance's commit conflict here)."""
    memories = [make_memory(read_consistency_s=0.0) for _ in range(6)]
    opened: list[StyleMemory] = []
    all_open, finished = anyio.Event(), anyio.Event()

    async def hold(memory: StyleMemory) -> None:
        async with memory:  # entered and left in this task, as a process would
            opened.append(memory)
            if len(opened) == len(memories):
                all_open.set()
            await finished.wait()

    async with anyio.create_task_group() as group:
        for memory in memories:
            group.start_soon(hold, memory)
        with anyio.fail_after(60):
            await all_open.wait()
        await memories[0].remember("u1", MemoryKind.LYRICS, RAIN[0], Verdict.ACCEPTED)
        found = await memories[-1].items("u1")
        finished.set()
    assert [item.text for item in found] == [RAIN[0]]
    table = lancedb.connect(str(tmp_path / "memory")).open_table("memory")
    assert [list(i.columns) for i in table.list_indices()] == [["user_id"]]

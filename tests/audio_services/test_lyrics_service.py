"""The lyrics service: the writer's memory pulls suggestions toward their style, the
cache answers repeats until that memory changes, and a memory outage degrades."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from jacameno.audio_services.lyrics.model import (
    LyricsError,
    LyricsRequest,
    LyricsSource,
    LyricsSuggestion,
    RestyleRequest,
)
from jacameno.audio_services.lyrics.offline import OfflineLyricsModel
from jacameno.audio_services.lyrics.service import LyricsAsk, LyricsService, expand_scheme
from jacameno.audio_services.lyrics.watch import written_lines
from jacameno.audio_services.memory.embedder import WordLlamaEmbedder
from jacameno.audio_services.memory.store import MemoryKind, MemoryStoreError, StyleMemory, Verdict

GOTHIC = [
    "the raven haunts the crypt where candles weep",
    "a shroud of shadow falls on the cathedral stone",
    "the graveyard bells are tolling in my sleep",
    "my sorrow wanders through the tomb alone",
    "the midnight coffin creaks beneath the moon",
    "a ghost is kneeling at the broken altar",
]


class CountingModel:
    """The offline model, counting the requests it answers."""

    def __init__(self) -> None:
        self.inner = OfflineLyricsModel()
        self.requests: list[LyricsRequest] = []

    @property
    def source(self) -> LyricsSource:
        return LyricsSource.OFFLINE

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion:
        self.requests.append(request)
        return await self.inner.suggest(request)

    async def restyle(self, request: RestyleRequest) -> LyricsSuggestion:
        return await self.inner.restyle(request)


class DictCache:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, object]] = {}

    async def get(self, key: str) -> dict[str, object] | None:
        return self.values.get(key)

    async def put(self, key: str, value: Mapping[str, object], ttl_s: int) -> None:
        self.values[key] = dict(value)


@pytest.fixture(scope="module")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


def similarity(embedder: WordLlamaEmbedder, lines: list[str], style: np.ndarray) -> float:
    return float(embedder.embed(["\n".join(lines)])[0] @ style)


async def test_a_writers_accepted_style_pulls_suggestions_toward_it(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    async with StyleMemory(str(tmp_path / "memory"), embedder) as memory:
        await memory.remember_many("user:goth", MemoryKind.LYRICS, GOTHIC, Verdict.ACCEPTED)
        service = LyricsService(OfflineLyricsModel(), memory=memory)
        style = embedder.embed(["\n".join(GOTHIC)])[0]
        theirs, newcomer = [], []
        for seed in range(8):
            ask = LyricsAsk(theme="a night in the city", rhyme_scheme="ABAB", seed=seed)
            mine = await service.suggest("user:goth", ask)
            fresh = await service.suggest("user:new", ask)
            theirs.append(similarity(embedder, list(mine["lines"]), style))  # type: ignore[arg-type]
            newcomer.append(similarity(embedder, list(fresh["lines"]), style))  # type: ignore[arg-type]
    assert np.mean(theirs) > np.mean(newcomer) + 0.05, (theirs, newcomer)
    assert sum(a > b for a, b in zip(theirs, newcomer, strict=True)) >= 6


async def test_repeats_come_from_the_cache_until_the_memory_changes(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    model, cache = CountingModel(), DictCache()
    async with StyleMemory(str(tmp_path / "memory"), embedder) as memory:
        service = LyricsService(model, memory=memory, cache=cache)
        ask = LyricsAsk(theme="trains", rhyme_scheme="AABB", seed=1)
        first = await service.suggest("user:a", ask)
        assert await service.suggest("user:a", ask) == first
        assert len(model.requests) == 1
        await service.suggest("user:b", ask)  # another writer: another key
        assert len(model.requests) == 2
        await service.remember("user:a", ["the station clock is slow"], Verdict.ACCEPTED)
        await service.suggest("user:a", ask)
        assert len(model.requests) == 3
        assert model.requests[-1].examples == ("the station clock is slow",)


class BrokenMemory:
    """A memory whose backend is down."""

    async def nearest(self, *args: object, **kwargs: object) -> list[object]:
        raise MemoryStoreError("lancedb unreachable")

    async def style_version(self, user_id: str) -> str:
        raise MemoryStoreError("lancedb unreachable")


async def test_a_memory_outage_still_gives_lines_uncached() -> None:
    model, cache = CountingModel(), DictCache()
    service = LyricsService(model, memory=BrokenMemory(), cache=cache)  # type: ignore[arg-type]
    answer = await service.suggest("user:a", LyricsAsk(theme="fog", rhyme_scheme="AA"))
    assert len(answer["lines"]) == 2  # type: ignore[arg-type]
    assert cache.values == {}


def test_the_scheme_repeats_to_the_lines_asked() -> None:
    assert expand_scheme("AB", 5) == "ABABA"
    assert expand_scheme("AABB", None) == "AABB"
    with pytest.raises(LyricsError):
        expand_scheme("AB", 0)


def test_written_lines_are_the_new_lyric_lines() -> None:
    before = "[Verse]\nI walk the road tonight\n"
    after = (
        "[Verse]\nI walk the road tonight\nI feel the burning light\nyeah\n\n[Chorus]\nhold on\n"
    )
    assert written_lines(before, after) == ["I feel the burning light", "hold on"]
    assert written_lines(after, after) == []
    assert written_lines(before, after, ["hold on"]) == ["I feel the burning light"]

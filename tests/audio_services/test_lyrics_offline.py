"""The offline lyrics model: rhymes where the scheme says, syllables, seeds and themes."""

from __future__ import annotations

import pronouncing  # type: ignore[import-untyped]
import pytest

from jacameno.audio_services.lyrics.analysis import words_of
from jacameno.audio_services.lyrics.model import LyricsModel, LyricsRequest, LyricsSource
from jacameno.audio_services.lyrics.offline import OfflineLyricsModel, stress_misfit
from jacameno.audio_services.lyrics.phonetics import syllable_count

SCHEMES = ("AABB", "ABAB", "ABCB", "AAAA", "ABABCC", "AABBA")
THEMES = ("summer road trip", "lost love by the sea", "fire and rain", "city lights at night")


def _cmu_rhyming_parts(word: str) -> set[str]:
    """Rhyming parts straight from the CMU dictionary (stress digits dropped)."""
    phones = pronouncing.phones_for_word(word)
    assert phones, f"{word!r} is not in the CMU dictionary"
    return {" ".join(s.rstrip("012") for s in pronouncing.rhyming_part(p).split()) for p in phones}


def _end_word(line: str) -> str:
    return words_of(line)[-1]


def _syllables(line: str) -> int:
    return sum(syllable_count(word) for word in words_of(line))


async def _suggest(request: LyricsRequest) -> tuple[str, ...]:
    model: LyricsModel = OfflineLyricsModel()
    suggestion = await model.suggest(request)
    assert suggestion.source is LyricsSource.OFFLINE
    assert suggestion.rhyme_scheme == request.rhyme_scheme
    assert len(suggestion.lines) == request.lines
    return suggestion.lines


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("seed", [0, 1, 7])
async def test_lines_rhyme_where_the_scheme_says(scheme: str, theme: str, seed: int) -> None:
    lines = await _suggest(LyricsRequest(theme=theme, rhyme_scheme=scheme, seed=seed))
    ends = [_end_word(line) for line in lines]
    for i, a in enumerate(scheme):
        for j in range(i + 1, len(scheme)):
            shared = _cmu_rhyming_parts(ends[i]) & _cmu_rhyming_parts(ends[j])
            if scheme[j] == a:
                assert shared, f"{ends[i]!r} and {ends[j]!r} should rhyme ({scheme}): {lines}"
            else:
                assert not shared, f"{ends[i]!r} and {ends[j]!r} should not rhyme: {lines}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("syllables", [1, 2, 4, 6, 8, 10, 12, 16, 24])
async def test_syllable_target_within_one(scheme: str, syllables: int) -> None:
    request = LyricsRequest(theme="night drive", rhyme_scheme=scheme, syllables=(syllables,))
    for line in await _suggest(request):
        assert abs(_syllables(line) - syllables) <= 1, line


async def test_a_target_per_line() -> None:
    targets = (5, 7, 9, 11)
    lines = await _suggest(LyricsRequest(theme="harbor", rhyme_scheme="ABAB", syllables=targets))
    assert [abs(_syllables(line) - t) <= 1 for line, t in zip(lines, targets, strict=True)] == [
        True
    ] * 4


async def test_same_seed_same_lines_other_seed_or_theme_other_lines() -> None:
    request = LyricsRequest(theme="summer road trip", rhyme_scheme="ABAB", seed=3)
    first = await _suggest(request)
    assert await _suggest(request) == first
    other_seeds = {
        await _suggest(LyricsRequest(theme=request.theme, rhyme_scheme="ABAB", seed=s))
        for s in range(4, 8)
    }
    assert first not in other_seeds
    assert len(other_seeds) == 4
    other_theme = await _suggest(LyricsRequest(theme="winter harbor", rhyme_scheme="ABAB", seed=3))
    assert other_theme != first


async def test_theme_words_turn_up() -> None:
    lines = await _suggest(LyricsRequest(theme="thunder engine", rhyme_scheme="AABBCCDD"))
    words = {word for line in lines for word in words_of(line)}
    assert words & {"thunder", "engine"}


async def test_stress_pattern_is_followed_better_when_given() -> None:
    misfit = {"given": 0, "not given": 0}
    for seed in range(6):
        for key, stress in (("given", "01"), ("not given", None)):
            request = LyricsRequest(
                theme="quiet river", rhyme_scheme="AABB", syllables=(8,), stress=stress, seed=seed
            )
            for line in await _suggest(request):
                misfit[key] += stress_misfit(words_of(line), "01")
    assert misfit["given"] < misfit["not given"]


@pytest.mark.parametrize("scheme", ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A" * 32, "AB" * 16])
async def test_long_schemes(scheme: str) -> None:
    lines = await _suggest(LyricsRequest(theme="rain", rhyme_scheme=scheme, syllables=(6,)))
    ends = [_end_word(line) for line in lines]
    for i, a in enumerate(scheme):
        for j in range(i + 1, len(scheme)):
            shared = _cmu_rhyming_parts(ends[i]) & _cmu_rhyming_parts(ends[j])
            assert bool(shared) is (scheme[j] == a), (ends[i], ends[j])

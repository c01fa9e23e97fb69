"""Benchmark the offline lyrics service: suggestion of 8 lines and analysis of a song.

Usage (from the repository root):

    .venv/bin/python bench/bench_lyrics.py [--rounds 50]

Targets (issue #15): offline suggestion of 8 lines p50 <= 50 ms; analysis of a
60-line song <= 20 ms. Both after one warm-up call (the CMU dictionary loads
once per process, and its load time is printed too). Each figure is also given
as a ratio to its target.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import replace

from jacameno.audio_services.lyrics.analysis import analyse_lyrics
from jacameno.audio_services.lyrics.model import LyricsRequest
from jacameno.audio_services.lyrics.offline import OfflineLyricsModel

VERSE = """\
I walked along the river in the night
The water held a silver kind of light
We never said the words we meant to say
And every answer drifted far away"""
CHORUS = """\
Hold the line and hold the light
Hold me closer through the night
Everything will be alright
Hold the line and hold the light"""
SONG = "\n\n".join([f"[Verse]\n{VERSE}\n{VERSE}", f"[Chorus]\n{CHORUS}"] * 5)  # 60 lines


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


async def main(rounds: int) -> None:
    model = OfflineLyricsModel()
    request = LyricsRequest(theme="city lights", rhyme_scheme="ABABCDCD", syllables=(10,))
    start = time.perf_counter()
    await model.suggest(request)
    first_ms = (time.perf_counter() - start) * 1e3
    suggest: list[float] = []
    for seed in range(rounds):
        varied = replace(request, seed=seed + 1, theme=f"city lights {seed}")
        start = time.perf_counter()
        await model.suggest(varied)
        suggest.append(time.perf_counter() - start)
    lines = len(analyse_lyrics(SONG).lines)
    analyse: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        analyse_lyrics(SONG)
        analyse.append(time.perf_counter() - start)
    s50, s99 = _ms(suggest)
    a50, a99 = _ms(analyse)
    print(f"first suggestion (dictionary load included): {first_ms:.1f} ms")
    print(
        f"offline suggestion, 8 lines: p50 {s50:.2f} ms, p99 {s99:.2f} ms"
        f"  (p50 / 50 ms target: {s50 / 50:.2f}x)"
    )
    print(
        f"analysis, {lines}-line song: p50 {a50:.2f} ms, p99 {a99:.2f} ms"
        f"  (p50 / 20 ms target: {a50 / 20:.2f}x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(main(parser.parse_args().rounds))

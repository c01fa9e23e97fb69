"""Benchmark: mastering and mixing speed on 180 s of generated stereo at 44.1 kHz.

Run from the repository root::

    .venv/bin/python bench/bench_mastering.py [--seconds 180] [--runs 3] [--memory 180,1800]

The process pins itself to one CPU and limits BLAS/OpenMP threads to one, so the
figures are single-core. Reported: the realtime ratio of :func:`master`
(including its verification passes), of a plain pedalboard chain (high-pass,
compressor, limiter) measured in the same run as a reference, and the time to
mix eight stems with :func:`mix`. Targets: mastering >= 40x realtime, mixing
8 x 180 s stems in < 12 s.

``--memory 180,1800`` runs the real job functions (``compute("mastering")``
and ``compute("mixing")`` of four of the stems) on files of each duration in
fresh processes and prints their peak resident memory and its ratio to the
shortest duration's (see :func:`bench.bench_analysis.job_peak_rss`).
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pedalboard  # noqa: E402
from scipy import signal  # noqa: E402

from jacameno.audio_services.mastering import master, master_settings  # noqa: E402
from jacameno.audio_services.metering import measure_loudness  # noqa: E402
from jacameno.audio_services.mixing import Stem, mix  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bench package
from bench.bench_analysis import job_peak_rss, report_memory, write_repeated  # noqa: E402

SAMPLE_RATE = 44_100
FloatArray = npt.NDArray[np.float32]


def _pin_to_one_cpu() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def _placed(one_shot: npt.NDArray[np.float64], onsets: npt.NDArray[np.int64], n: int) -> Any:
    train = np.zeros(n)
    train[onsets[onsets < n]] = 1.0
    return signal.oaconvolve(train, one_shot)[:n]


def make_stems(num_seconds: float, seed: int = 0) -> dict[str, FloatArray]:
    """Eight stems of a 124 bpm song: kick, snare, hats, bass, keys, pad, vocal, fx."""
    rng = np.random.default_rng(seed)
    n = int(num_seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    beat = int(SAMPLE_RATE * 60 / 124)
    shot_t = np.arange(int(0.5 * SAMPLE_RATE)) / SAMPLE_RATE
    kick_shot = np.sin(2 * np.pi * np.cumsum(50 + 90 * np.exp(-shot_t * 30)) / SAMPLE_RATE)
    kick_shot *= np.exp(-shot_t * 9)
    snare_shot = rng.standard_normal(shot_t.size) * np.exp(-shot_t * 20)
    hat_shot = np.diff(rng.standard_normal(shot_t.size + 1)) * np.exp(-shot_t * 70)
    beats = np.arange(0, n, beat)
    root = 55 * 2 ** (np.array([0, 9, 5, 7])[(np.arange(n) // (4 * beat)) % 4] / 12)
    phase = 2 * np.pi * np.cumsum(root) / SAMPLE_RATE
    vocal_env = (np.sin(2 * np.pi * t * 0.7) > -0.2) * (0.6 + 0.4 * np.sin(2 * np.pi * t * 5))
    vocal_pitch = 220 * 2 ** (np.round(4 * np.sin(2 * np.pi * t * 0.25)) / 12)
    vocal = np.sin(
        2 * np.pi * np.cumsum(vocal_pitch * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))) / SAMPLE_RATE
    )
    mono = {
        "kick": _placed(kick_shot, beats, n),
        "snare": _placed(snare_shot, beats[1::2], n),
        "hats": _placed(hat_shot, np.arange(0, n, beat // 2), n),
        "bass": np.tanh(2 * np.sin(phase)) * np.exp(-((np.arange(n) % beat) / SAMPLE_RATE) * 3),
        "vocal": (vocal + 0.3 * np.sin(2 * np.pi * np.cumsum(2 * vocal_pitch) / SAMPLE_RATE))
        * vocal_env,
        "fx": rng.standard_normal(n) * (np.arange(n) % (16 * beat) < beat) * 0.3,
    }
    stems = {name: (audio[np.newaxis, :] * 0.5).astype(np.float32) for name, audio in mono.items()}
    keys = sum(np.sin(phase * 4 * 2 ** (s / 12)) for s in (0, 4, 7))
    stems["keys"] = (np.stack([keys, np.roll(keys, 441)]) * 0.15).astype(np.float32)
    pad = sum(2 * ((phase * 2 * 2 ** (s / 12) / (2 * np.pi)) % 1) - 1 for s in (0, 7, 12))
    stems["pad"] = (np.stack([pad, -pad]) * 0.1).astype(np.float32)
    return stems


def _best_of(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def memory_benchmark(durations_s: list[float], directory: Path) -> None:
    """Peak RSS of mastering and mixing jobs on files of each duration (a 20 s loop repeated)."""
    stems = make_stems(20.0)
    song = sum(np.pad(s, ((0, 2 - s.shape[0]), (0, 0)), mode="edge") for s in stems.values())
    song = (song * (0.5 / np.abs(song).max())).astype(np.float32)
    mixed = {"kick": "drums", "bass": "bass", "keys": "keys", "vocal": "vocal"}
    mastering, mixing = [], []
    for seconds in durations_s:
        files = {}
        for name in ("song", *mixed):
            files[name] = str(directory / f"{name}{seconds:g}.wav")
            audio = song if name == "song" else stems[name]
            write_repeated(Path(files[name]), audio, SAMPLE_RATE, seconds)
        inputs = {"asset_id": "song", "settings": {"preset": "streaming"}}
        mastering.append((seconds, job_peak_rss("mastering", {}, inputs, files)))
        tracks = [{"asset_id": name, "name": name, "kind": role} for name, role in mixed.items()]
        mixing.append(
            (seconds, job_peak_rss("mixing", {"preset": "pop"}, {"stems": tracks}, files))
        )
        for path in files.values():
            Path(path).unlink()
    report_memory("mastering job, 44.1 kHz stereo", mastering)
    report_memory("mixing job, 4 stems at 44.1 kHz (durations per stem)", mixing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--runs", type=int, default=3, help="best of N runs")
    parser.add_argument(
        "--memory", help="peak RSS of the jobs at these durations, e.g. 180,1800 (seconds)"
    )
    args = parser.parse_args(argv)
    if args.memory:
        with tempfile.TemporaryDirectory() as directory:
            durations = [float(value) for value in args.memory.split(",")]
            memory_benchmark(durations, Path(directory))
        return 0
    print(_pin_to_one_cpu())
    stems = make_stems(args.seconds)
    song = sum(np.pad(s, ((0, 2 - s.shape[0]), (0, 0)), mode="edge") for s in stems.values())
    song = (song * (0.5 / np.abs(song).max())).astype(np.float32)
    duration = song.shape[1] / SAMPLE_RATE
    print(f"material: {duration:.0f} s stereo at {SAMPLE_RATE} Hz, {len(stems)} stems")

    chain = pedalboard.Pedalboard(  # type: ignore[attr-defined]
        [
            pedalboard.HighpassFilter(30),
            pedalboard.Compressor(threshold_db=-12, ratio=2),
            pedalboard.Limiter(threshold_db=-1),
        ]
    )
    plain_s, _ = _best_of(args.runs, partial(chain, song, SAMPLE_RATE))
    print(f"plain pedalboard chain: {plain_s:6.2f} s  {duration / plain_s:7.1f}x realtime")

    for preset in ("streaming", "club", "broadcast"):
        settings = master_settings(preset)
        master_s, result = _best_of(args.runs, partial(master, song, SAMPLE_RATE, settings))
        check = measure_loudness(result.samples, SAMPLE_RATE)
        print(
            f"master[{preset:9s}]: {master_s:6.2f} s  {duration / master_s:7.1f}x realtime  "
            f"passes={result.passes}  out={check.integrated_lufs:.2f} LUFS "
            f"(target {settings.target_lufs:g})  true peak={check.true_peak_dbtp:.2f} dBTP "
            f"(ceiling {settings.ceiling_dbtp:g})"
        )

    roles = {
        "kick": "drums",
        "snare": "drums",
        "hats": "drums",
        "bass": "bass",
        "vocal": "vocal",
        "keys": "keys",
        "pad": "synth",
        "fx": "fx",
    }
    stem_list = [Stem(samples=audio, name=name, role=roles[name]) for name, audio in stems.items()]
    mix_s, mixed = _best_of(args.runs, partial(mix, stem_list, SAMPLE_RATE, "pop"))
    print(
        f"mix[pop, {len(stem_list)} stems]: {mix_s:6.2f} s  {duration / mix_s:7.1f}x realtime  "
        f"out={mixed.integrated_lufs:.2f} LUFS  true peak={mixed.true_peak_dbtp:.2f} dBTP"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

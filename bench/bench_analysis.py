"""Benchmark track analysis and vocal coaching: cold (fresh worker) and warm, as x realtime.

Usage (from the repository root):

    .venv/bin/python bench/bench_analysis.py [--seconds 180] [--librosa]

It writes a generated 44.1 kHz stereo song (drums over chords) and a generated
vocal take to a temporary directory, then for each job starts a fresh Python
process, as a new pool worker would be, and times: the imports, the first job
(cold), and the same job again (warm). Each time is printed with its ratio to the
audio's duration (targets: analysis >= 30x realtime warm, coaching >= 50x).

``--librosa`` also times librosa's numba-compiled beat tracker in fresh
processes, without and with ``NUMBA_CACHE_DIR``, to show the JIT cost the
numpy paths here avoid.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def child_job(job: str, path: str) -> dict[str, Any]:
    """Run in a fresh process: import, decode, run the job twice, report the times."""
    started = time.perf_counter()
    from audio_services.analysis import analyze
    from audio_services.audio_io import load_audio
    from audio_services.coaching import beat_grid, coach_vocal

    imported = time.perf_counter()
    samples, rate = load_audio(path)
    decoded = time.perf_counter()
    grid = beat_grid(96.0, samples.shape[1] / rate, first_beat_s=0.5)

    def run() -> dict[str, Any]:
        if job == "analyze":
            return analyze(samples, rate).to_json()
        return coach_vocal(samples, rate, key="A minor", beat_times_s=grid).to_json()

    result = run()
    first = time.perf_counter()
    run()
    second = time.perf_counter()
    return {
        "import_s": imported - started,
        "decode_s": decoded - imported,
        "cold_s": first - decoded,
        "warm_s": second - first,
        "duration_s": samples.shape[1] / rate,
        "result": result["tempo"] if job == "analyze" else result["summary"],
    }


def child_librosa(path: str) -> dict[str, Any]:
    """Run in a fresh process: librosa's beat tracker, first (JIT) and second call."""
    started = time.perf_counter()
    import librosa
    import soundfile

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    mono = librosa.to_mono(samples.T)
    loaded = time.perf_counter()
    tempo, _ = librosa.beat.beat_track(y=mono, sr=rate)
    first = time.perf_counter()
    librosa.beat.beat_track(y=mono, sr=rate)
    second = time.perf_counter()
    return {
        "import_s": loaded - started,
        "cold_s": first - loaded,
        "warm_s": second - first,
        "tempo_bpm": float(np.atleast_1d(tempo)[0]),
    }


def make_song(seconds: float, rate: int = 44_100) -> np.ndarray:
    from tests.audio_services.test_analysis import chord_progression, drum_pattern

    drums = drum_pattern(96.0, duration_s=seconds, sample_rate=rate, offset_s=0.5, seed=1)
    bar_s = 4 * 60.0 / 96.0
    repeats = int(seconds / (4 * bar_s)) + 1
    chords = chord_progression(9, "minor", sample_rate=rate, chord_s=bar_s, repeats=repeats)
    chords = np.pad(chords, (int(0.5 * rate), 0))[: len(drums)]
    chords = np.pad(chords, (0, len(drums) - len(chords)))
    return np.stack([0.7 * drums + 0.5 * chords, 0.5 * drums + 0.7 * chords]).astype(np.float32)


def make_vocal(seconds: float, rate: int = 44_100) -> np.ndarray:
    from tests.audio_services.test_coaching import sing

    melody = [57, 59, 60, 62, 64, 65, 64, 62, 60, 59, 57, 64]
    beat_s = 60.0 / 96.0
    notes = []
    start = 0.5
    while start < seconds - 2.0:
        for index, midi in enumerate(melody):
            notes.append((start, start + 0.8 * beat_s, float(midi)))
            start += beat_s
            if index % 4 == 3:
                start += beat_s  # a rest to breathe
    samples, _ = sing(notes, sample_rate=rate, breaths=[], seed=3)
    return np.stack([samples, samples])


def run_child(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """This script in a fresh interpreter, as a new pool worker would start."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def report(name: str, figures: dict[str, Any]) -> None:
    duration = figures["duration_s"]
    cold_total = figures["import_s"] + figures["decode_s"] + figures["cold_s"]
    rows = [
        ("imports", figures["import_s"]),
        ("decode", figures["decode_s"]),
        ("first job (cold)", figures["cold_s"]),
        ("second job (warm)", figures["warm_s"]),
        ("fresh worker total", cold_total),
    ]
    print(f"{name} ({duration:.0f} s of audio)")
    for label, seconds in rows:
        ratio = f"{duration / seconds:7.1f}x realtime" if label not in ("imports", "decode") else ""
        print(f"  {label:<19}{seconds:7.2f} s  {ratio}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--librosa", action="store_true", help="also time librosa's beat tracker")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if options.child:
        job, *rest = options.child
        print(json.dumps(child_librosa(*rest) if job == "librosa" else child_job(job, *rest)))
        return
    from audio_services.audio_io import write_audio

    with tempfile.TemporaryDirectory() as directory:
        song_path, vocal_path = Path(directory, "song.wav"), Path(directory, "vocal.wav")
        started = time.perf_counter()
        write_audio(song_path, make_song(options.seconds), 44_100, subtype="PCM_16")
        write_audio(vocal_path, make_vocal(options.seconds), 44_100, subtype="PCM_16")
        print(f"generated test audio in {time.perf_counter() - started:.1f} s\n")

        analysis = run_child("analyze", str(song_path))
        report("analyze: 44.1 kHz stereo song", analysis)
        print(f"  result: {analysis['result']['tempo_bpm']} BPM (true 96)\n")
        coaching = run_child("coach", str(vocal_path))
        report("coach_vocal: 44.1 kHz vocal take", coaching)
        notes, in_tune = coaching["result"]["note_count"], coaching["result"]["percent_in_tune"]
        print(f"  result: {notes:.0f} notes, {in_tune}% in tune\n")

        if options.librosa:
            with tempfile.TemporaryDirectory() as cache:
                for label, env in (
                    ("no cache", {}),
                    ("NUMBA_CACHE_DIR, first run", {"NUMBA_CACHE_DIR": cache}),
                    ("NUMBA_CACHE_DIR, cached", {"NUMBA_CACHE_DIR": cache}),
                ):
                    figures = run_child("librosa", str(song_path), env=env)
                    print(
                        f"librosa beat_track, {label}: import {figures['import_s']:.1f} s, "
                        f"cold {figures['cold_s']:.1f} s, warm {figures['warm_s']:.1f} s, "
                        f"{figures['tempo_bpm']:.2f} BPM"
                    )


if __name__ == "__main__":
    main()

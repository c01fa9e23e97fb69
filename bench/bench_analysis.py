"""Benchmark track analysis and vocal coaching: cold (fresh worker) and warm, as x realtime.

Usage (from the repository root):

    .venv/bin/python bench/bench_analysis.py [--seconds 180] [--librosa] [--memory 180,1800]

It writes a generated 44.1 kHz stereo song (drums over chords) and a generated
vocal take to a temporary directory, then for each job starts a fresh Python
process, as a new pool worker would be, and times: the imports, the first job
(cold), and the same job again (warm). Each time is printed with its ratio to the
audio's duration (targets: analysis >= 30x realtime warm, coaching >= 50x).

``--librosa`` also times librosa's numba-compiled beat tracker in fresh
processes, without and with ``NUMBA_CACHE_DIR``, to show the JIT cost the
numpy paths here avoid.

``--memory 180,1800`` runs the real job functions (``compute("analysis")``,
``compute("coaching")``) on files of each duration (in seconds, written by
repeating a generated 20 s loop) in fresh processes and prints their peak
resident memory (``VmHWM``) and its ratio to the shortest: streamed jobs
hold about the same memory for 3 minutes as for 30. :func:`job_peak_rss`
is shared with ``bench/bench_mastering.py``.
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
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
LOOP_S = 20.0


def child_job(job: str, path: str) -> dict[str, Any]:
    """Run in a fresh process: import, decode, run the job twice, report the times."""
    started = time.perf_counter()
    from jacameno.audio_services.analysis import analyze
    from jacameno.audio_services.audio_io import load_audio
    from jacameno.audio_services.coaching import beat_grid, coach_vocal

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


def child_compute(spec_path: str) -> dict[str, Any]:
    """Run in a fresh process: one real job function; its time and peak resident memory."""
    spec = json.loads(Path(spec_path).read_text())
    started = time.perf_counter()
    from jacameno.audio_services.jobs.compute import compute

    imported = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        compute(spec["kind"], spec["params"], spec["inputs"], spec["files"], workdir, 3600.0)
    finished = time.perf_counter()
    with open("/proc/self/status", encoding="ascii") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return {
        "import_s": imported - started,
        "job_s": finished - imported,
        "peak_rss_mib": peak_kib / 1024,
    }


def write_repeated(path: Path, loop: npt.NDArray[np.float32], rate: int, seconds: float) -> None:
    """``loop`` (channels, frames) written over and over for ``seconds``, never held whole."""
    import soundfile

    total = round(seconds * rate)
    with soundfile.SoundFile(path, "w", rate, loop.shape[0], subtype="PCM_16") as out:
        written = 0
        while written < total:
            piece = loop[:, : total - written]
            out.write(piece.T)
            written += piece.shape[1]


def job_peak_rss(
    kind: str,
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
) -> dict[str, Any]:
    """``compute(kind, ...)`` in a fresh interpreter: import and job seconds, peak RSS in MiB."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump({"kind": kind, "params": params, "inputs": inputs, "files": files}, spec)
    try:
        return run_child("compute", spec.name)
    finally:
        os.unlink(spec.name)


def report_memory(name: str, rows: list[tuple[float, dict[str, Any]]]) -> None:
    """Peak RSS per duration, and its ratio to the shortest duration's."""
    first = rows[0][1]["peak_rss_mib"]
    print(f"{name}: peak RSS of the job process (imports included)")
    for seconds, figures in rows:
        ratio = figures["peak_rss_mib"] / first
        print(
            f"  {seconds / 60:5.1f} min  {figures['peak_rss_mib']:7.1f} MiB  {ratio:5.2f}x  "
            f"job {figures['job_s']:6.1f} s  ({seconds / figures['job_s']:5.1f}x realtime)"
        )


def memory_benchmark(durations_s: list[float], directory: Path) -> None:
    """Peak RSS of analysis and coaching jobs on files of each duration."""
    song, vocal = make_song(LOOP_S), make_vocal(LOOP_S)
    analysis, coaching = [], []
    for seconds in durations_s:
        song_path, vocal_path = (
            directory / f"song{seconds:g}.wav",
            directory / f"vocal{seconds:g}.wav",
        )
        write_repeated(song_path, song, 44_100, seconds)
        write_repeated(vocal_path, vocal[:1], 44_100, seconds)
        inputs = {"asset_id": "a", "track_id": "t"}
        analysis.append((seconds, job_peak_rss("analysis", {}, inputs, {"a": str(song_path)})))
        coach_inputs = {**inputs, "key": "A minor"}
        coaching.append(
            (seconds, job_peak_rss("coaching", {}, coach_inputs, {"a": str(vocal_path)}))
        )
        song_path.unlink()
        vocal_path.unlink()
    report_memory("analysis job, 44.1 kHz stereo song", analysis)
    report_memory("coaching job, 44.1 kHz mono vocal", coaching)


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
    parser.add_argument(
        "--memory", help="peak RSS of the jobs at these durations, e.g. 180,1800 (seconds)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if options.child:
        job, *rest = options.child
        if job == "compute":
            print(json.dumps(child_compute(*rest)))
        elif job == "librosa":
            print(json.dumps(child_librosa(*rest)))
        else:
            print(json.dumps(child_job(job, *rest)))
        return
    if options.memory:
        with tempfile.TemporaryDirectory() as directory:
            durations = [float(value) for value in options.memory.split(",")]
            memory_benchmark(durations, Path(directory))
        return
    from jacameno.audio_services.audio_io import write_audio

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

"""Benchmark the arrangement: an arranged mix as a job, and MIDI through FluidSynth.

Usage (from the repository root):

    .venv/bin/python bench/bench_arrangement.py [--quick]

Targets (issue #16), on one core:

1. an arranged mix of 8 stems x 180 s with 40 clips, fades and volume/pan automation,
   end to end as the job computes it (the files read, the render, the FLAC encoded):
   at most 12 s; printed beside the same 8 stems mixed from 0 s without clips,
   measured in the same run (the arrangement's own cost as a ratio);
2. a 180 s General MIDI song of 8 MIDI tracks rendered at least 50x realtime.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from jacameno.audio_services.demo_stems import demo_song  # noqa: E402
from jacameno.audio_services.jobs.compute import compute  # noqa: E402
from jacameno.audio_services.midi_render import MidiTrackSource, find_soundfont  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bench package
from bench.bench_analysis import write_repeated  # noqa: E402

MIX_TARGET_S = 12.0
MIDI_TARGET_X = 50.0
RATE = 44_100


def _pin() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned"


def _stems(folder: Path, seconds: float) -> dict[str, str]:
    """8 mono or stereo stem files of ``seconds`` (the demo song's stems, repeated)."""
    song = demo_song(sample_rate=RATE)
    files = {}
    for index in range(8):
        _name, stem = list(song.stems.items())[index % len(song.stems)]
        path = folder / f"stem{index}.wav"
        audio = np.asarray(stem, dtype=np.float32)
        write_repeated(path, audio if audio.ndim == 2 else audio[np.newaxis, :], RATE, seconds)
        files[f"a{index}"] = str(path)
    return files


def _tracks(files: dict[str, str], seconds: float, *, arranged: bool) -> list[dict[str, Any]]:
    tracks = []
    for index, asset_id in enumerate(files):
        track: dict[str, Any] = {
            "asset_id": asset_id,
            "name": f"track {index}",
            "kind": "instrument",
            "pan": -0.7 + 0.2 * index,
        }
        if arranged:
            # 5 clips a track (40 in all) covering the song, each looped, faded, offset.
            step = seconds / 5
            track["clips"] = [
                {
                    "asset_id": asset_id,
                    "start_s": part * step,
                    "offset_s": 1.0 + part,
                    "duration_s": step / 2,
                    "loop_count": 2,
                    "fade_in_s": 0.5,
                    "fade_out_s": 1.5,
                    "fade_in_curve": "equal_power",
                    "gain_db": -1.0 * part,
                }
                for part in range(5)
            ]
            track["volume_automation"] = [
                {"time_s": 0.0, "value": -8.0},
                {"time_s": seconds / 2, "value": 0.0, "curve": "smooth"},
                {"time_s": seconds, "value": -3.0},
            ]
            track["pan_automation"] = [
                {"time_s": 0.0, "value": -0.5},
                {"time_s": seconds, "value": 0.5},
            ]
        tracks.append(track)
    return tracks


def bench_mix(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = _stems(Path(folder), seconds)
        timings = {}
        for label, arranged in (("from 0 s, no clips", False), ("arranged", True)):
            inputs = {"stems": _tracks(files, seconds, arranged=arranged)}
            started = time.perf_counter()
            computed = compute("mixing", {"preset": "pop"}, inputs, files, folder, 3600.0)
            timings[label] = time.perf_counter() - started
            duration = computed["outputs"][0]["audio"]["duration_s"]
            print(f"  mix {label}: {timings[label]:.2f} s for {duration:.0f} s of song")
        arranged_s = timings["arranged"]
        print(
            f"arranged mix, 8 stems x {seconds:.0f} s, 40 clips: {arranged_s:.2f} s"
            f" ({arranged_s / MIX_TARGET_S:.2f}x the {MIX_TARGET_S:.0f} s target;"
            f" {arranged_s / timings['from 0 s, no clips']:.2f}x the same stems without clips)"
        )


#: (GM program, beats between onsets, notes per onset, length in beats): a band's parts.
PARTS = (
    (0, 2.0, 3, 1.8),  # piano chords every half bar
    (33, 1.0, 1, 0.9),  # bass on the beat
    (48, 4.0, 4, 3.9),  # string pads every bar
    (25, 0.5, 1, 0.45),  # guitar eighths
    (81, 1.0, 1, 0.8),  # lead on the beat
    (73, 2.0, 1, 1.9),  # flute half notes
    (61, 4.0, 3, 1.0),  # brass stabs every bar
    (11, 0.5, 1, 0.4),  # vibraphone eighths
)


def bench_midi(seconds: float) -> None:
    soundfont = find_soundfont()
    tracks = []
    beats = int(seconds * 2)  # 120 bpm
    for index, (program, every, voices, length) in enumerate(PARTS):
        notes = [
            {
                "pitch": 40 + index * 4 + (onset * 7) % 12 + 4 * voice,
                "velocity": 90,
                "start_beats": onset * every,
                "length_beats": length,
            }
            for onset in range(int(beats / every))
            for voice in range(voices)
        ]
        clip = {"start_s": 0.0, "duration_s": seconds, "notes": notes}
        tracks.append(
            MidiTrackSource(
                [clip], bpm=120.0, instrument=program, sample_rate=RATE, soundfont=soundfont
            )
        )
    started = time.perf_counter()
    frames = 0
    for track in tracks:
        for block in track.blocks():
            frames += block.shape[1]
    elapsed = time.perf_counter() - started
    notes = sum(len(track.events) // 2 for track in tracks)
    realtime = seconds / elapsed
    print(
        f"MIDI render, 8 tracks x {seconds:.0f} s ({notes:,} notes, {soundfont.name}):"
        f" {elapsed:.2f} s, {realtime:.0f}x realtime ({realtime / MIDI_TARGET_X:.1f}x the"
        f" {MIDI_TARGET_X:.0f}x target)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 s songs instead of 180 s")
    args = parser.parse_args(argv)
    seconds = 60.0 if args.quick else 180.0
    print(f"bench_arrangement ({_pin()})")
    bench_midi(seconds)
    bench_mix(seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

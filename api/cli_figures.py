"""What each audio command does: arguments in, audio services called, figures out.

Each ``*_figures`` function checks the arguments argparse cannot (raising
:class:`~api.cli_command.UsageError`), calls the audio services, and returns
the command's figures as a JSON-safe dict: loudness in LUFS, true peak in
dBTP, tempo in BPM, coaching notes with ``start_s``, ``end_s``, ``kind`` and
``cents``; non-finite figures (the loudness of silence) are ``None``. The
services are imported when a command runs, so ``jacameno --help`` and the
server commands do not load the DSP stack.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jacameno.api.cli_command import (
    Steps,
    UsageError,
    file_sink,
    file_source,
    finite,
    naming,
    output_format,
)
from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.mix_presets import ROLES

if TYPE_CHECKING:
    from jacameno.audio_services.coaching import CoachingReport
    from jacameno.audio_services.metering import LoudnessReport
    from jacameno.audio_services.notes import ReferenceNote

__all__ = ["analyze_figures", "coach_figures", "master_figures", "mix_figures"]


def _loudness(report: LoudnessReport) -> dict[str, float | None]:
    return {
        "integrated_lufs": finite(report.integrated_lufs),
        "true_peak_dbtp": finite(report.true_peak_dbtp),
        "loudness_range_lu": finite(report.loudness_range_lu),
    }


# --- analyze -------------------------------------------------------------------------


def analyze_figures(args: argparse.Namespace, step: Steps) -> dict[str, Any]:
    """``jacameno analyze FILE``: loudness, peaks, tempo, beats and key."""
    from jacameno.audio_services.analysis import analyze_source

    step("reading the header")
    source = file_source(args.file)
    step("measuring loudness, tempo and key")
    result, _ = analyze_source(source, waveform=False)
    key = result.key
    return {
        "file": str(args.file),
        "duration_s": round(result.duration_s, 3),
        "sample_rate": result.sample_rate,
        "channels": result.channels,
        "integrated_lufs": finite(result.integrated_lufs),
        "loudness_range_lu": finite(result.loudness_range_lu),
        "true_peak_dbtp": finite(result.true_peak_dbtp),
        "sample_peak_dbfs": finite(result.sample_peak_dbfs),
        "clip_events": result.clipping.clip_events,
        "tempo_bpm": finite(result.tempo.tempo_bpm) or None,
        "tempo_confidence": finite(result.tempo.confidence),
        "key": key.name if key else None,
        "key_confidence": finite(key.confidence, 3) if key else None,
        "beat_times_s": list(result.tempo.beat_times_s),
        "downbeat_times_s": list(result.tempo.downbeat_times_s),
    }


# --- mix -----------------------------------------------------------------------------


def _assignments(pairs: Sequence[str], option: str, names: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` options, checked against the stem names."""
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value:
            raise UsageError(f"{option} takes NAME=VALUE, got {pair!r}")
        if name not in names:
            raise UsageError(f"{option} {pair}: no stem named {name!r} (stems: {', '.join(names)})")
        found[name] = value
    return found


def _number(value: str, option: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{option} needs a number, got {value!r}") from None
    if not math.isfinite(number):
        raise UsageError(f"{option} needs a finite number, got {value!r}")
    return number


def mix_figures(args: argparse.Namespace, step: Steps) -> dict[str, Any]:
    """``jacameno mix STEMS -o OUT``: the stems mixed into a stereo file, and its figures."""
    from jacameno.audio_services.mixing import Stem, mix_source, role_for_track
    from jacameno.audio_services.sources import ResampledSource

    fmt = output_format(args.output)
    names = [path.stem for path in args.stems]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UsageError(f"stems need distinct file names, {', '.join(duplicates)} repeats")
    gains = _assignments(args.gain, "--gain", names)
    pans = _assignments(args.pan, "--pan", names)
    roles = _assignments(args.role, "--role", names)
    for name, role in roles.items():
        if role not in ROLES:
            raise UsageError(f"--role {name}={role}: choose one of {', '.join(ROLES)}")
    volumes_db = {name: _number(gains.get(name, "0"), "--gain") for name in names}
    pan_positions = {name: _number(pans.get(name, "0"), "--pan") for name in names}
    sample_rate: int | None = None  # the first stem's; the others are resampled to it
    stems = []
    for path, name in zip(args.stems, names, strict=True):
        step(f"reading {name}")
        source = file_source(path)
        sample_rate = sample_rate or source.sample_rate
        stems.append(
            Stem(
                ResampledSource(source, sample_rate),
                name=name,
                role=roles.get(name) or role_for_track(None, name),
                volume_db=volumes_db[name],
                pan=pan_positions[name],
            )
        )
    if sample_rate is None:
        raise UsageError("give at least one stem")
    step(f"mixing {len(stems)} stems ({args.preset})")
    sink = file_sink(args.output, sample_rate, 2)
    step(f"writing {fmt} {args.output}")
    result = mix_source(stems, sample_rate, sink, preset=args.preset)
    return {
        "output_file": str(args.output),
        "preset": result.preset,
        "sample_rate": sample_rate,
        "duration_s": round(sink.frames / sample_rate, 3),
        "integrated_lufs": finite(result.integrated_lufs),
        "true_peak_dbtp": finite(result.true_peak_dbtp),
        "bus_gain_db": finite(result.bus_gain_db),
        "stems": [
            {
                "name": stem.name,
                "role": stem.role,
                "played": stem.played,
                "input_lufs": finite(stem.input_lufs),
                "gain_db": finite(stem.gain_db),
                "level_lufs": finite(stem.level_lufs),
            }
            for stem in result.stems
        ],
    }


# --- master --------------------------------------------------------------------------


def master_figures(args: argparse.Namespace, step: Steps) -> dict[str, Any]:
    """``jacameno master IN -o OUT``: the master written and verified, with the figures
    measured on the file as written (:func:`~audio_services.mastering_file.master_to_file`)."""
    from jacameno.audio_services.mastering import master_settings
    from jacameno.audio_services.mastering_file import master_to_file

    output_format(args.output)
    overrides = {
        name: value
        for name, value in (("target_lufs", args.target_lufs), ("ceiling_dbtp", args.ceiling_dbtp))
        if value is not None
    }
    try:
        settings = master_settings(args.preset, **overrides)
    except AudioError as exc:
        raise UsageError(str(exc)) from exc
    step("reading the header")
    source = file_source(args.input)
    sink = file_sink(args.output, source.sample_rate, source.channels)
    step(f"mastering to {settings.target_lufs:g} LUFS, ceiling {settings.ceiling_dbtp:g} dBTP")
    result = master_to_file(source, sink, settings, on_step=step)
    return {
        "input_file": str(args.input),
        "output_file": str(args.output),
        "preset": args.preset,
        "target_lufs": settings.target_lufs,
        "ceiling_dbtp": settings.ceiling_dbtp,
        "input": _loudness(result.input),
        "output": _loudness(result.output),
        "gain_db": finite(result.gain_db),
        "limiter_reduction_db": finite(result.limiter_reduction_db),
        "trim_db": finite(result.trim_db, 3),
        "passes": result.passes,
        "output_sample_peak_dbfs": finite(result.output.sample_peak_dbfs),
    }


# --- coach ---------------------------------------------------------------------------


def _reference(path: Path) -> list[ReferenceNote]:
    """The reference melody in ``path`` (MIDI, note list or audio), errors naming it."""
    from jacameno.audio_services.coaching import reference_from_file

    try:
        return reference_from_file(path)
    except ModuleNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except AudioError as exc:
        raise type(exc)(naming(path, exc)) from exc


def coach_figures(args: argparse.Namespace, step: Steps) -> dict[str, Any]:
    """``jacameno coach VOCAL``: intonation and timing remarks, and optionally a picture."""
    from jacameno.audio_services.coaching import coach_track
    from jacameno.audio_services.pitch import track_pitch_source
    from jacameno.audio_services.pitch_svg import pitch_curve_svg
    from jacameno.audio_services.timing import beat_grid

    if args.svg is not None and args.svg.suffix.lower() != ".svg":
        raise UsageError(f"{args.svg}: the picture must end in .svg")
    if args.first_beat and args.tempo is None:
        raise UsageError("--first-beat needs --tempo")
    step("reading the header")
    vocal = file_source(args.vocal)
    reference = None
    if args.reference is not None:
        step(f"reading the reference {args.reference.name}")
        reference = _reference(args.reference)
    step("tracking pitch")
    track = track_pitch_source(vocal)
    beats = None
    if args.tempo is not None:
        beats = beat_grid(args.tempo, track.duration_s, first_beat_s=args.first_beat)
    step("judging intonation and timing")
    report = coach_track(track, key=args.key, reference=reference, beat_times_s=beats)
    if args.svg is not None:
        step(f"drawing {args.svg}")
        picture = pitch_curve_svg(
            track, report.sung_notes, reference=reference or (), coaching_notes=report.notes
        )
        args.svg.write_text(picture, encoding="utf-8")
    return {
        "file": str(args.vocal),
        "key": args.key,
        "reference": None if args.reference is None else str(args.reference),
        "tempo_bpm": args.tempo,
        "svg_file": None if args.svg is None else str(args.svg),
        "summary": _summary(report),
        "notes": [
            {
                "start_s": finite(note.start_s, 3),
                "end_s": finite(note.end_s, 3),
                "kind": note.kind,
                "cents": finite(note.cents, 1),
                "ms": finite(note.ms, 1),
                "message": note.message,
            }
            for note in report.notes
        ],
    }


def _summary(report: CoachingReport) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        key: finite(value, 2) if isinstance(value, float) else value
        for key, value in asdict(report.summary).items()
    }

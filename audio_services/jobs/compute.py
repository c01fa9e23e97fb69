"""The DSP of each job kind: pure, synchronous, picklable (runs in a worker process).

:func:`compute` takes local paths of the input assets and a working folder, and
returns plain JSON: the job's ``result`` figures, the ``outputs`` to store as
new assets, and ``sidecars`` to store next to existing assets (waveform peaks,
analysis figures). Audio errors propagate as :class:`AudioError`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from audio_services.analysis import analyze_file
from audio_services.audio_io import load_audio, resample, write_audio
from audio_services.coaching import coach_track, reference_from_track
from audio_services.errors import AudioLimitError
from audio_services.mastering import master_source
from audio_services.mastering_settings import MasterSettings
from audio_services.mixing import Stem, mix
from audio_services.pitch import track_pitch_source
from audio_services.pitch_svg import pitch_curve_svg
from audio_services.result_json import json_object, json_ready
from audio_services.sinks import FileSink
from audio_services.sources import FileSource, ResampledSource

#: Highest sample rate a mix is rendered at, in Hz (stems above it are resampled).
MAX_MIX_SAMPLE_RATE = 96_000
WAVEFORM_SUFFIX = "waveform"
ANALYSIS_SUFFIX = "analysis.json"

Computed = dict[str, Any]


def compute(
    kind: str,
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
    workdir: str,
    max_duration_s: float,
) -> Computed:
    """Run one job of ``kind``; ``files`` maps input asset ids to local paths."""
    folder = Path(workdir)
    if kind == "analysis":
        return _analysis(inputs, files, folder, max_duration_s)
    if kind == "mixing":
        return _mixing(params, inputs, files, folder, max_duration_s)
    if kind == "mastering":
        return _mastering(params, inputs, files, folder, max_duration_s)
    if kind == "coaching":
        return _coaching(params, inputs, files, folder, max_duration_s)
    raise AudioLimitError(f"no service runs {kind!r} jobs here")


def warm_up() -> None:
    """Compile and cache what a first job would (librosa's numba kernels)."""
    from audio_services.analysis import warm_up as warm_analysis

    warm_analysis()


def _analysis(
    inputs: dict[str, Any], files: dict[str, str], folder: Path, max_duration_s: float
) -> Computed:
    asset_id = inputs["asset_id"]
    result, waveform = analyze_file(files[asset_id], max_duration_s=max_duration_s)
    figures = result.to_json()
    pyramid = folder / "waveform.bin"
    pyramid.write_bytes(waveform.to_bytes())
    analysis_json = folder / "analysis.json"
    analysis_json.write_text(json.dumps(figures))
    return {
        "result": {"asset_id": asset_id, "track_id": inputs.get("track_id"), **figures},
        "outputs": [],
        "sidecars": [
            {"asset_id": asset_id, "suffix": WAVEFORM_SUFFIX, "path": str(pyramid)},
            {"asset_id": asset_id, "suffix": ANALYSIS_SUFFIX, "path": str(analysis_json)},
        ],
    }


def _mixing(
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
    folder: Path,
    max_duration_s: float,
) -> Computed:
    loaded = []
    for track in inputs["stems"]:
        samples, rate = load_audio(files[track["asset_id"]], max_duration_s=max_duration_s)
        if samples.shape[0] > 2:
            raise AudioLimitError(
                f"track {track['name']!r} has {samples.shape[0]} channels; the mixer takes"
                " mono or stereo stems (bounce surround stems to stereo first)"
            )
        loaded.append((track, samples, rate))
    sample_rate = min(max(rate for _, _, rate in loaded), MAX_MIX_SAMPLE_RATE)
    stems = [
        Stem.from_track(
            track, samples if rate == sample_rate else resample(samples, rate, sample_rate)
        )
        for track, samples, rate in loaded
    ]
    result = mix(stems, sample_rate, params.get("preset", "pop"))
    return _rendered("render", folder / "mix.flac", result.samples, sample_rate, result.to_json())


def _mastering(
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
    folder: Path,
    max_duration_s: float,
) -> Computed:
    settings = MasterSettings.from_json(inputs["settings"])
    source = FileSource(files[inputs["asset_id"]], max_duration_s=max_duration_s)
    reference = None
    if inputs.get("reference_asset_id"):
        guide = FileSource(files[inputs["reference_asset_id"]], max_duration_s=max_duration_s)
        reference = ResampledSource(guide, source.sample_rate)
    sink = _flac_sink(folder / "master.flac", source.sample_rate, source.channels)
    report = master_source(source, sink, settings, reference=reference)
    figures = {"source_asset_id": inputs["asset_id"], **report.to_json()}
    return _written("master", sink, figures)


def _coaching(
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
    folder: Path,
    max_duration_s: float,
) -> Computed:
    # Both takes stream from their files (read twice each, never held whole).
    vocal = FileSource(files[inputs["asset_id"]], max_duration_s=max_duration_s)
    reference = None
    if inputs.get("reference_asset_id"):
        guide = FileSource(files[inputs["reference_asset_id"]], max_duration_s=max_duration_s)
        reference = reference_from_track(track_pitch_source(guide))
    pitch = track_pitch_source(vocal)
    report = coach_track(pitch, key=inputs.get("key"), reference=reference)
    svg = folder / "pitch.svg"
    svg.write_text(
        pitch_curve_svg(
            pitch, report.sung_notes, reference=reference or (), coaching_notes=report.notes
        )
    )
    notes = [
        {
            "start_s": note.start_s,
            "end_s": note.end_s,
            "kind": note.kind,
            "message": note.message,
            "figures": json_ready(
                {
                    **note.figures,
                    **({"cents": note.cents} if note.cents is not None else {}),
                    **({"ms": note.ms} if note.ms is not None else {}),
                }
            ),
        }
        for note in report.notes
    ]
    return {
        "result": {
            "track_id": inputs["track_id"],
            "key": inputs.get("key"),
            "summary": json_object(asdict(report.summary)),
            "notes": notes,
        },
        "outputs": [
            {
                "role": "pitch_curve",
                "path": str(svg),
                "kind": "pitch_curve",
                "filename": "pitch.svg",
                "content_type": "image/svg+xml",
                "audio": None,
            }
        ],
        "sidecars": [],
    }


def _flac_sink(path: Path, sample_rate: int, channels: int) -> FileSink:
    """Where a render is streamed: 24-bit FLAC."""
    return FileSink(path, sample_rate, channels, format="FLAC", subtype="PCM_24")


def _written(kind: str, sink: FileSink, figures: dict[str, Any]) -> Computed:
    """A render streamed to ``sink``, described as the job's one output."""
    path = Path(sink.path)
    return {
        "result": figures,
        "outputs": [
            {
                "role": kind,
                "path": str(path),
                "kind": kind,
                "filename": path.name,
                "content_type": "audio/flac",
                "audio": {
                    "duration_s": sink.frames / sink.sample_rate,
                    "sample_rate": sink.sample_rate,
                    "channels": sink.channels,
                },
            }
        ],
        "sidecars": [],
    }


def _rendered(
    kind: str, path: Path, samples: Any, sample_rate: int, figures: dict[str, Any]
) -> Computed:
    """Write a rendered result as 24-bit FLAC and describe it as the job's one output."""
    write_audio(path, samples, sample_rate, format="FLAC", subtype="PCM_24")
    return {
        "result": figures,
        "outputs": [_audio_output(kind, path, path.name, samples, sample_rate)],
        "sidecars": [],
    }


def _audio_output(
    role: str, path: Path, filename: str, samples: np.ndarray[Any, Any], sample_rate: int
) -> dict[str, Any]:
    return {
        "role": role,
        "path": str(path),
        "kind": role,
        "filename": filename,
        "content_type": "audio/flac",
        "audio": {
            "duration_s": samples.shape[1] / sample_rate,
            "sample_rate": sample_rate,
            "channels": int(samples.shape[0]),
        },
    }

"""The DSP of each job kind: pure, synchronous, picklable (runs in a worker process).

:func:`compute` takes local paths of the input assets and a working folder, and
returns plain JSON: the job's ``result`` figures, the ``outputs`` to store as
new assets, and ``sidecars`` to store next to existing assets (waveform peaks,
analysis figures). Audio errors propagate as :class:`AudioError`.

Every job streams its inputs from their files block by block
(:mod:`audio_services.sources`) and writes its renders block by block
(:mod:`audio_services.sinks`), so a worker's memory does not grow with the
audio's duration: an hour of silence analyses in about as much as a minute.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jacameno.audio_services.analysis import analyze_file
from jacameno.audio_services.coaching import CoachingReport, coach_track, reference_from_track
from jacameno.audio_services.errors import AudioLimitError
from jacameno.audio_services.jobs.arranged_inputs import arranged, stems_of
from jacameno.audio_services.jobs.exports import compute_export
from jacameno.audio_services.mastering_file import master_to_file
from jacameno.audio_services.mastering_settings import MasterSettings
from jacameno.audio_services.mixing import mix_source
from jacameno.audio_services.pitch import track_pitch_source
from jacameno.audio_services.pitch_svg import pitch_curve_svg
from jacameno.audio_services.result_json import json_object, json_ready
from jacameno.audio_services.sinks import FileSink
from jacameno.audio_services.sources import BlockSource, FileSource, ResampledSource

WAVEFORM_SUFFIX = "waveform"
ANALYSIS_SUFFIX = "analysis.json"
#: Phrases kept in a coaching summary: the document drops longer lists
#: (``jobs.document.MAX_RESULT_LIST``), and the lyrics fit lines to these.
MAX_SUMMARY_PHRASES = 64

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
    if kind == "export":
        return compute_export(params, inputs, files, folder, max_duration_s)
    raise AudioLimitError(f"no service runs {kind!r} jobs here")


def warm_up() -> None:
    """Load what a first job would (native libraries, FFT plans), so it starts at full speed.

    Nothing is JIT-compiled: the DSP keeps off librosa and numba (see
    :mod:`audio_services.analysis`).
    """
    from jacameno.audio_services.analysis import warm_up as warm_analysis

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
    stems, sample_rate = stems_of(inputs["stems"], files, max_duration_s)
    sink = _flac_sink(folder / "mix.flac", sample_rate, 2)
    report = mix_source(stems, sample_rate, sink, params.get("preset", "pop"))
    return _written("render", sink, report.to_json())


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
    # Its figures are measured on the file as written (and stored as the asset).
    report = master_to_file(source, sink, settings, reference=reference)
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
    vocal: BlockSource = FileSource(files[inputs["asset_id"]], max_duration_s=max_duration_s)
    if inputs.get("clips"):
        vocal = arranged(inputs["clips"], files, vocal.sample_rate, max_duration_s)
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
            "summary": json_object({**asdict(report.summary), "phrases": _phrases(report)}),
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


def _phrases(report: CoachingReport) -> list[dict[str, float | int]]:
    """The take's first phrases (time in s, notes sung), as the lyrics fit lines to them.

    Capped at ``MAX_SUMMARY_PHRASES`` so the document keeps the list (it drops longer ones).
    """
    return [
        {
            "start_s": round(phrase.start_s, 3),
            "end_s": round(phrase.end_s, 3),
            "note_count": phrase.note_count,
        }
        for phrase in report.phrases[:MAX_SUMMARY_PHRASES]
    ]


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

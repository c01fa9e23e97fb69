"""Audio jobs hold bounded memory whatever the duration (issue 11), with the right figures.

Each job runs through the real job function (``compute``) in a freshly spawned
process, as a pool worker runs it, and its peak RSS is read from ``VmHWM``.
Before streaming, these jobs peaked at (MiB): an hour of silence (a 0.6 MB
FLAC) 3,170, 10 min of 48 kHz stereo 766, a 10 min take 877, a 5 min master
943, three 5 min stems 1,217; streamed, at 246, 233, 306, 227 and 242. The
bound here is what every job must stay under, whatever its input; the imports
alone take about 215 MiB.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from jacameno.audio_services.analysis import analyze
from jacameno.audio_services.metering import LOUDNESS_MODE, LoudnessMeter, amplitude_to_db
from jacameno.audio_services.mix_presets import LEAD_LUFS, get_mix_preset
from jacameno.audio_services.mixing import MIX_CEILING_DBTP
from jacameno.audio_services.sources import FileSource
from jacameno.audio_services.true_peak import TruePeakMeter
from jacameno.audio_services.waveform import WaveformPyramid
from tests.audio_services.memory_probe import IMPORT_ONLY, run_job_in_child
from tests.audio_services.test_analysis import chord_progression, drum_pattern
from tests.audio_services.test_coaching import sing

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="peak RSS is read from /proc (Linux only)"
)

PEAK_RSS_BOUND_MIB = 400.0
"""Every job's peak RSS, imports included (about 215 MiB of them)."""
GROWTH_BOUND_MIB = 120.0
"""Peak RSS above the imports alone: blocks, per-hop features and buffers."""
LOOP_S = 8.0
"""Generated tracks repeat an 8 s loop (four bars at 120 BPM), written block by block."""

FloatArray = npt.NDArray[np.float32]


def write_repeated(
    path: Path, loop: FloatArray, sample_rate: int, num_seconds: float, subtype: str
) -> None:
    """Write ``loop`` (channels, frames) over and over for ``num_seconds``, never all at once."""
    total = round(num_seconds * sample_rate)
    with sf.SoundFile(path, "w", sample_rate, loop.shape[0], subtype=subtype) as out:
        written = 0
        while written < total:
            piece = loop[:, : total - written]
            out.write(piece.T)
            written += piece.shape[1]


def song_loop(sample_rate: int) -> FloatArray:
    """Four bars of drums at 120 BPM over D major chords, stereo, seamless when repeated."""
    frames = round(LOOP_S * sample_rate)
    drums = drum_pattern(120.0, duration_s=LOOP_S, sample_rate=sample_rate, offset_s=0.0, seed=2)
    chords = chord_progression(2, "major", sample_rate=sample_rate, chord_s=2.0, repeats=1)
    chords = np.pad(chords, (0, max(0, frames - len(chords))))[:frames]
    return np.stack([0.7 * drums + 0.5 * chords, 0.5 * drums + 0.7 * chords]).astype(np.float32)


@pytest.fixture(scope="module")
def baseline_mib() -> float:
    """Peak RSS of a worker that only imported the job functions."""
    _, peak_mib = run_job_in_child(IMPORT_ONLY, {}, {}, {}, "")
    return peak_mib


def assert_bounded(peak_mib: float, baseline_mib: float) -> None:
    assert peak_mib < PEAK_RSS_BOUND_MIB, f"peak RSS {peak_mib:.0f} MiB"
    assert peak_mib - baseline_mib < GROWTH_BOUND_MIB, (
        f"peak RSS {peak_mib:.0f} MiB, {peak_mib - baseline_mib:.0f} MiB over the imports"
    )


def analysis_job(path: Path, workdir: Path) -> tuple[dict[str, object], WaveformPyramid, float]:
    computed, peak_mib = run_job_in_child(
        "analysis", {}, {"asset_id": "a", "track_id": "t"}, {"a": str(path)}, str(workdir)
    )
    assert computed is not None
    sidecars = {sidecar["suffix"]: Path(sidecar["path"]) for sidecar in computed["sidecars"]}
    pyramid = WaveformPyramid.from_bytes(sidecars["waveform"].read_bytes())
    assert json.loads(sidecars["analysis.json"].read_text())["frames"] == pyramid.frames
    return computed["result"], pyramid, peak_mib


@pytest.mark.slow
def test_an_hour_of_silence_analyses_in_bounded_memory(tmp_path: Path, baseline_mib: float) -> None:
    path = tmp_path / "silence.flac"
    write_repeated(path, np.zeros((2, 441_000), np.float32), 44_100, 3600.0, "PCM_16")
    assert path.stat().st_size < 2_000_000  # a tiny upload that passes every limit

    result, pyramid, peak_mib = analysis_job(path, tmp_path)

    assert_bounded(peak_mib, baseline_mib)
    assert result["duration_s"] == 3600.0
    assert result["integrated_lufs"] is None
    assert result["true_peak_dbtp"] is None
    assert result["key"] is None
    assert result["tempo"]["tempo_bpm"] == 0.0  # type: ignore[index]
    assert pyramid.frames == 3600 * 44_100
    peaks = pyramid.peaks(2_000)
    assert not peaks.minima.any()
    assert not peaks.maxima.any()


@pytest.mark.slow
def test_ten_minutes_of_48k_stereo_analyse_in_bounded_memory_with_the_right_figures(
    tmp_path: Path, baseline_mib: float
) -> None:
    rate = 48_000
    loop = song_loop(rate)
    path = tmp_path / "song.wav"
    write_repeated(path, loop, rate, 10 * 60.0, "FLOAT")

    result, pyramid, peak_mib = analysis_job(path, tmp_path)

    assert_bounded(peak_mib, baseline_mib)
    # A periodic signal: its loudness and peaks are those of a few loops.
    short = analyze(np.tile(loop, 4), rate)
    assert result["integrated_lufs"] == pytest.approx(short.integrated_lufs, abs=0.05)
    assert result["true_peak_dbtp"] == pytest.approx(short.true_peak_dbtp, abs=0.01)
    assert result["tempo"]["tempo_bpm"] == pytest.approx(120.0, abs=0.5)  # type: ignore[index]
    assert len(result["tempo"]["beat_times_s"]) > 1_150  # type: ignore[index]
    assert result["key"]["name"] == "D major"  # type: ignore[index]
    assert pyramid.frames == 10 * 60 * rate
    envelope = pyramid.peaks(1_000, mix=True)
    assert math.isclose(float(envelope.maxima.max()), float(loop.max()), abs_tol=1e-4)


def vocal_loop(sample_rate: int) -> FloatArray:
    """Eight sung notes (A minor, 40-cent vibrato) and a rest: a seamless 8 s phrase."""
    melody = (57, 60, 64, 62, 60, 59, 57, 64)
    notes = [(0.3 + 0.8 * i, 0.9 + 0.8 * i, float(m)) for i, m in enumerate(melody)]
    samples, _ = sing(notes, sample_rate=sample_rate, tail_s=LOOP_S - notes[-1][1])
    return samples[None, : round(LOOP_S * sample_rate)]


@pytest.mark.slow
def test_coaching_a_long_take_runs_in_bounded_memory_with_the_right_figures(
    tmp_path: Path, baseline_mib: float
) -> None:
    rate = 44_100
    loop = vocal_loop(rate)
    path = tmp_path / "vocal.wav"
    minutes = 10
    write_repeated(path, loop, rate, minutes * 60.0, "PCM_16")

    computed, peak_mib = run_job_in_child(
        "coaching",
        {},
        {"asset_id": "v", "track_id": "t", "key": "A minor"},
        {"v": str(path)},
        str(tmp_path),
    )

    assert_bounded(peak_mib, baseline_mib)
    assert computed is not None
    summary = computed["result"]["summary"]
    repeats = minutes * 60 / LOOP_S
    assert summary["note_count"] == 8 * repeats
    assert summary["phrase_count"] == repeats
    assert summary["percent_in_tune"] == 100.0
    assert summary["median_abs_cents"] < 5.0


def measure_file(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, streamed."""
    source = FileSource(path)
    meter = LoudnessMeter(source.sample_rate, source.channels, LOUDNESS_MODE)
    peaks = TruePeakMeter(source.sample_rate, source.channels)
    for block in source.blocks():
        meter.add(block)
        peaks.add(block)
    return meter.integrated_lufs, amplitude_to_db(peaks.finish())


@pytest.mark.slow
def test_mastering_a_long_track_runs_in_bounded_memory_on_target(
    tmp_path: Path, baseline_mib: float
) -> None:
    rate = 44_100
    path = tmp_path / "song.wav"
    write_repeated(path, song_loop(rate), rate, 5 * 60.0, "PCM_16")

    computed, peak_mib = run_job_in_child(
        "mastering",
        {},
        {"asset_id": "s", "settings": {"preset": "club"}},
        {"s": str(path)},
        str(tmp_path),
    )

    assert_bounded(peak_mib, baseline_mib)
    assert computed is not None
    result, (output,) = computed["result"], computed["outputs"]
    assert output["audio"]["duration_s"] == 300.0
    lufs, true_peak_dbtp = measure_file(Path(output["path"]))
    assert lufs == pytest.approx(-9.0, abs=0.5)
    assert true_peak_dbtp <= -1.0 + 0.01  # 24-bit FLAC rounding of a -1.0 dBTP master
    assert result["output"]["integrated_lufs"] == pytest.approx(lufs, abs=0.01)
    assert result["output"]["true_peak_dbtp"] <= -1.0


@pytest.mark.slow
def test_mixing_long_stems_runs_in_bounded_memory_at_the_preset_levels(
    tmp_path: Path, baseline_mib: float
) -> None:
    minutes = 5
    song = song_loop(44_100)
    drums = np.array(song[:1] - song[1:] * 0.5)  # mostly drums, mono
    chords = song_loop(48_000)[::-1].copy()  # stereo at 48 kHz: the mix's rate
    vocal = vocal_loop(44_100)
    tracks: list[tuple[str, FloatArray, int, dict[str, object]]] = [
        ("drums", drums, 44_100, {"kind": "instrument"}),
        ("chords", chords, 48_000, {"kind": "instrument", "pan": -0.3}),
        ("vocal", vocal, 44_100, {"kind": "vocal", "volume_db": 1.5}),
    ]
    stems: list[dict[str, object]] = []
    files: dict[str, str] = {}
    for name, loop, rate, settings in tracks:
        path = tmp_path / f"{name}.wav"
        write_repeated(path, loop, rate, minutes * 60.0, "PCM_16")
        files[name] = str(path)
        stems.append({"asset_id": name, "name": name, **settings})

    computed, peak_mib = run_job_in_child(
        "mixing", {"preset": "pop"}, {"stems": stems}, files, str(tmp_path)
    )

    assert_bounded(peak_mib, baseline_mib)
    assert computed is not None
    result, (output,) = computed["result"], computed["outputs"]
    assert output["audio"] == {"duration_s": minutes * 60.0, "sample_rate": 48_000, "channels": 2}
    levels = {stem["name"]: stem["level_lufs"] for stem in result["stems"]}
    preset = get_mix_preset("pop")
    assert levels["drums"] == pytest.approx(LEAD_LUFS + preset.role("drums").level_lu, abs=0.01)
    assert levels["vocal"] == pytest.approx(LEAD_LUFS + 1.5, abs=0.01)
    lufs, true_peak_dbtp = measure_file(Path(output["path"]))
    assert lufs == pytest.approx(result["integrated_lufs"], abs=0.01)
    assert -26.0 < lufs <= preset.mix_lufs + 0.5
    assert true_peak_dbtp <= MIX_CEILING_DBTP + 0.01


@pytest.mark.slow
def test_an_arranged_song_of_16_tracks_renders_in_bounded_memory(
    tmp_path: Path, baseline_mib: float
) -> None:
    """16 tracks x 180 s, each of looped and faded clips of an 8 s loop: the render
    streams clip by clip (memory per block, not per song or track)."""
    loop = song_loop(44_100)
    path = tmp_path / "loop.wav"
    write_repeated(path, loop, 44_100, LOOP_S, "PCM_16")
    stems = []
    for index in range(16):
        clips = [
            {
                "asset_id": "loop",
                "start_s": 0.25 * index,
                "offset_s": 0.5,
                "duration_s": 7.0,
                "loop_count": 12,
                "fade_in_s": 1.0,
                "fade_out_s": 2.0,
                "fade_in_curve": "equal_power",
            },
            {"asset_id": "loop", "start_s": 100.0 + index, "duration_s": 8.0, "loop_count": 9},
        ]
        stems.append(
            {
                "asset_id": None,
                "clips": clips,
                "name": f"track {index}",
                "kind": "instrument",
                "pan": -0.9 + 0.12 * index,
                "volume_automation": [
                    {"time_s": 0.0, "value": -6.0},
                    {"time_s": 90.0, "value": 0.0, "curve": "smooth"},
                ],
            }
        )

    computed, peak_mib = run_job_in_child(
        "mixing", {"preset": "pop"}, {"stems": stems}, {"loop": str(path)}, str(tmp_path)
    )

    assert_bounded(peak_mib, baseline_mib)
    assert computed is not None
    (output,) = computed["outputs"]
    # The last clip (track 15 at 115 s, 9 x 8 s) ends the song at 187 s.
    assert output["audio"]["duration_s"] == pytest.approx(187.0, abs=1e-3)

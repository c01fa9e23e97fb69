"""Masters written to files are verified on the file as written: CLI and job alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jacameno.audio_services.audio_io import load_audio, write_audio
from jacameno.audio_services.errors import AudioProcessingError
from jacameno.audio_services.jobs.compute import compute
from jacameno.audio_services.mastering import master_settings
from jacameno.audio_services.mastering_file import master_to_file, measure_file
from jacameno.audio_services.metering import LoudnessReport, measure_loudness
from jacameno.audio_services.sinks import FileSink, FloatArray
from jacameno.audio_services.sources import FileSource
from tests.audio_services.test_mastering import SAMPLE_RATE, make_song


class GainSink(FileSink):
    """A file sink whose converter is off by ``gain_db``: what it stores is not what it got."""

    def __init__(self, path: Path, gain_db: float) -> None:
        super().__init__(path, SAMPLE_RATE, 2, format="WAV", subtype="PCM_24")
        self.gain = np.float32(10 ** (gain_db / 20))

    def write(self, block: FloatArray) -> None:
        super().write(block * self.gain)


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mastering") / "mix.wav"
    write_audio(path, make_song("pop", 10, seed=1), SAMPLE_RATE)
    return path


def _as_written(path: Path) -> LoudnessReport:
    """The file's figures, measured independently of the code under test (whole file at once)."""
    return measure_loudness(*load_audio(path))


def test_the_report_holds_the_figures_of_the_written_file(mix: Path, tmp_path: Path) -> None:
    settings = master_settings("club")
    out = tmp_path / "master.flac"
    sink = FileSink(out, SAMPLE_RATE, 2, format="FLAC", subtype="PCM_24")
    steps: list[str] = []
    report = master_to_file(FileSource(mix), sink, settings, on_step=steps.append)
    written = _as_written(out)
    assert report.output == written
    assert written.true_peak_dbtp <= settings.ceiling_dbtp
    assert written.integrated_lufs == pytest.approx(settings.target_lufs, abs=0.1)
    assert steps == ["verifying loudness and true peak of the file"]
    assert measure_file(out) == written


def test_a_file_that_peaks_over_the_ceiling_is_trimmed(mix: Path, tmp_path: Path) -> None:
    settings = master_settings("streaming")
    out = tmp_path / "hot.wav"
    steps: list[str] = []
    report = master_to_file(FileSource(mix), GainSink(out, 0.5), settings, on_step=steps.append)
    written = _as_written(out)
    assert written.true_peak_dbtp <= settings.ceiling_dbtp
    assert written.true_peak_dbtp == pytest.approx(settings.ceiling_dbtp, abs=0.05)
    assert report.output == written
    assert report.trim_db == pytest.approx(-0.5, abs=0.05)
    assert written.integrated_lufs == pytest.approx(settings.target_lufs, abs=0.1)
    assert [step.split(" by ")[0] for step in steps] == [
        "verifying loudness and true peak of the file",
        f"trimming WAV {out}",
        "verifying loudness and true peak of the file",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hot.wav"]


def test_a_file_off_its_target_loudness_is_refused(mix: Path, tmp_path: Path) -> None:
    with pytest.raises(AudioProcessingError, match=r"LU off its -14\.0 LUFS target"):
        master_to_file(FileSource(mix), GainSink(tmp_path / "quiet.wav", -6.0))


def test_the_mastering_job_verifies_the_file_it_writes(mix: Path, tmp_path: Path) -> None:
    settings = master_settings("club", ceiling_dbtp=-0.5)
    computed = compute(
        "mastering",
        {},
        {"asset_id": "mix", "settings": settings.to_json()},
        {"mix": str(mix)},
        str(tmp_path),
        600.0,
    )
    (output,) = computed["outputs"]
    written = _as_written(Path(output["path"]))
    assert written.true_peak_dbtp <= settings.ceiling_dbtp
    # Exactly the file's figures: those of the float render before 24-bit
    # quantisation differ in the last digits, and could sit over the ceiling.
    figures = computed["result"]["output"]
    assert figures["integrated_lufs"] == written.integrated_lufs
    assert figures["true_peak_dbtp"] == written.true_peak_dbtp
    assert figures["sample_peak_dbfs"] == written.sample_peak_dbfs
    assert figures["integrated_lufs"] == pytest.approx(settings.target_lufs, abs=0.1)
    assert output["audio"]["duration_s"] == pytest.approx(10.0)
    assert computed["result"]["source_asset_id"] == "mix"

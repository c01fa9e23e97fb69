"""``jacameno analyze|mix|master|coach`` on generated audio: figures, files and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jacameno.api.cli import main
from jacameno.api.cli_audio import EXIT_BAD_INPUT, EXIT_USAGE
from jacameno.audio_services.audio_io import load_audio, write_audio
from jacameno.audio_services.demo_stems import DemoSong, demo_song
from jacameno.audio_services.metering import measure_loudness
from jacameno.audio_services.mix_presets import LEAD_LUFS, get_mix_preset
from tests.audio_services.test_coaching import RATE, sing

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _plain_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress bars draw only on terminals; these variables would force one."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def song() -> DemoSong:
    return demo_song(sample_rate=22_050)


@pytest.fixture(scope="module")
def files(song: DemoSong, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo stems as WAV files, their plain sum as ``loop.wav``, the melody as CSV."""
    folder = tmp_path_factory.mktemp("song")
    paths = {}
    for name, audio in song.stems.items():
        paths[name] = folder / f"{name}.wav"
        write_audio(paths[name], audio, song.sample_rate)
    stereo = [np.broadcast_to(audio, (2, audio.shape[1])) for audio in song.stems.values()]
    paths["loop"] = folder / "loop.wav"
    write_audio(paths["loop"], np.sum(stereo, axis=0) / 4, song.sample_rate)
    paths["melody"] = folder / "melody.csv"
    rows = [f"{n.start_s}, {n.end_s}, {int(n.midi)}" for n in song.melody]
    paths["melody"].write_text("start_s, end_s, note\n" + "\n".join(rows) + "\n")
    return paths


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    """Run a command with ``--json``; stdout must be exactly one JSON object."""
    status = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert err == ""
    figures: dict[str, Any] = json.loads(out)
    return figures


# --- analyze ---------------------------------------------------------------------------


def test_analyze_reports_loudness_tempo_and_key(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], song: DemoSong
) -> None:
    figures = run_json(capsys, "analyze", str(files["loop"]))
    measured = measure_loudness(*load_audio(files["loop"]))
    assert figures["integrated_lufs"] == pytest.approx(measured.integrated_lufs, abs=0.01)
    assert figures["true_peak_dbtp"] == pytest.approx(measured.true_peak_dbtp, abs=0.01)
    assert figures["tempo_bpm"] == pytest.approx(song.tempo_bpm, abs=0.5)
    assert figures["key"] == song.key == "A minor"
    assert figures["channels"] == 2
    assert figures["sample_rate"] == 22_050
    assert figures["beat_times_s"][0] == pytest.approx(song.first_beat_s, abs=0.02)


def test_analyze_prints_a_table(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    assert main(["analyze", str(files["loop"])]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    for figure in ("LUFS", "dBTP", "100 BPM", "A minor", "22050 Hz, 2 ch"):
        assert figure in out


def test_silence_has_no_loudness_or_tempo(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_audio(tmp_path / "silence.flac", np.zeros((1, 22_050)), 22_050, format="FLAC")
    figures = run_json(capsys, "analyze", str(tmp_path / "silence.flac"))
    assert figures["integrated_lufs"] is None
    assert figures["tempo_bpm"] is None
    assert figures["key"] is None


# --- mix and master -----------------------------------------------------------------------


def test_mix_writes_the_stems_into_a_stereo_file(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "mix.flac"
    stems = [str(files[name]) for name in ("drums", "bass", "chords", "vocal")]
    figures = run_json(
        capsys,
        "mix",
        *stems,
        "-o",
        str(out),
        "--preset",
        "rock",
        "--role",
        "chords=keys",
        "--gain",
        "vocal=2",
        "--pan",
        "chords=-0.3",
    )
    samples, sample_rate = load_audio(out)
    assert sample_rate == 22_050
    assert samples.shape[0] == 2
    assert samples.shape[1] >= 22_050 * 24
    measured = measure_loudness(samples, sample_rate)
    assert figures["integrated_lufs"] == pytest.approx(measured.integrated_lufs, abs=0.1)
    assert measured.true_peak_dbtp <= -0.9
    roles = {stem["name"]: stem["role"] for stem in figures["stems"]}
    assert roles == {"drums": "drums", "bass": "bass", "chords": "keys", "vocal": "vocal"}
    levels = {stem["name"]: stem["level_lufs"] for stem in figures["stems"]}
    vocal_lufs = LEAD_LUFS + get_mix_preset("rock").role("vocal").level_lu + 2.0  # --gain vocal=2
    assert levels["vocal"] == pytest.approx(vocal_lufs, abs=0.3)


def test_mix_resamples_stems_to_the_first_ones_rate(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    time_s = np.arange(48_000 * 3) / 48_000
    write_audio(tmp_path / "synth.wav", 0.2 * np.sin(2 * np.pi * 220 * time_s)[None], 48_000)
    out = tmp_path / "mix.wav"
    figures = run_json(
        capsys, "mix", str(files["bass"]), str(tmp_path / "synth.wav"), "-o", str(out)
    )
    samples, sample_rate = load_audio(out)
    assert sample_rate == figures["sample_rate"] == 22_050
    assert [stem["role"] for stem in figures["stems"]] == ["bass", "synth"]
    assert samples.shape[1] >= 22_050 * 24


@pytest.mark.parametrize(
    ("options", "target_lufs", "ceiling_dbtp", "suffix"),
    [
        (("--target-lufs", "-14"), -14.0, -1.0, ".wav"),
        (("--preset", "club", "--ceiling-dbtp", "-2"), -9.0, -2.0, ".flac"),
        (("--preset", "broadcast"), -23.0, -1.0, ".wav"),
    ],
)
def test_master_meets_the_target_under_the_ceiling_in_the_written_file(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    tmp_path: Path,
    options: tuple[str, ...],
    target_lufs: float,
    ceiling_dbtp: float,
    suffix: str,
) -> None:
    out = tmp_path / f"master{suffix}"
    figures = run_json(capsys, "master", str(files["loop"]), "-o", str(out), *options)
    measured = measure_loudness(*load_audio(out))
    assert measured.integrated_lufs == pytest.approx(target_lufs, abs=0.5)
    assert measured.true_peak_dbtp <= ceiling_dbtp
    assert figures["target_lufs"] == target_lufs
    assert figures["ceiling_dbtp"] == ceiling_dbtp
    assert figures["output"]["integrated_lufs"] == pytest.approx(measured.integrated_lufs, abs=0.01)
    assert figures["output"]["true_peak_dbtp"] == pytest.approx(measured.true_peak_dbtp, abs=0.01)
    source = measure_loudness(*load_audio(files["loop"]))
    assert figures["input"]["integrated_lufs"] == pytest.approx(source.integrated_lufs, abs=0.01)


def test_master_prints_a_table(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    assert main(["master", str(files["loop"]), "-o", str(tmp_path / "m.wav")]) == 0
    out, _ = capsys.readouterr()
    for figure in ("-14 LUFS", "dBTP", "target -14 LUFS, ceiling -1 dBTP"):
        assert figure in out


# --- coach ---------------------------------------------------------------------------------

FLAT_TAKE = [(0.3, 0.9, 60.0), (1.0, 1.6, 62.0), (1.7, 2.7, 64.0), (2.8, 3.4, 65.0)]


@pytest.fixture(scope="module")
def flat_take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four notes in C major, the third (E4, 1.7-2.7 s) sung 40 cents flat."""
    path = tmp_path_factory.mktemp("coach") / "take.wav"
    samples, _ = sing(FLAT_TAKE, detune=[(1.7, 2.7, -40.0)])
    write_audio(path, samples[None, :], RATE)
    return path


def _flags(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return [note for note in figures["notes"] if note["kind"] in ("flat", "sharp", "early", "late")]


def test_coach_flags_a_passage_40_cents_flat_and_draws_it(
    capsys: pytest.CaptureFixture[str], flat_take: Path, tmp_path: Path
) -> None:
    svg = tmp_path / "pitch.svg"
    figures = run_json(capsys, "coach", str(flat_take), "--key", "C major", "--svg", str(svg))
    flags = _flags(figures)
    assert [flag["kind"] for flag in flags] == ["flat"]
    assert flags[0]["start_s"] == pytest.approx(1.7, abs=0.1)
    assert flags[0]["end_s"] == pytest.approx(2.7, abs=0.1)
    assert flags[0]["cents"] == pytest.approx(-40.0, abs=5.0)
    assert figures["summary"]["note_count"] == 4
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert "40 cents flat on E4" in svg.read_text()


def test_coach_against_a_guide_recording(
    capsys: pytest.CaptureFixture[str], flat_take: Path, tmp_path: Path
) -> None:
    guide = tmp_path / "guide.flac"
    samples, _ = sing(FLAT_TAKE, vibrato_cents=0.0, seed=3)
    write_audio(guide, samples[None, :], RATE, format="FLAC")
    figures = run_json(capsys, "coach", str(flat_take), "--reference", str(guide))
    flags = _flags(figures)
    assert [flag["kind"] for flag in flags] == ["flat"]
    assert flags[0]["cents"] == pytest.approx(-40.0, abs=5.0)


def test_coach_times_onsets_on_the_beat_and_prints_a_table(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], song: DemoSong
) -> None:
    vocal = str(files["vocal"])
    argv = ["coach", vocal, "--key", "A minor", "--tempo", "100", "--first-beat", "0.1"]
    figures = run_json(capsys, *argv)
    assert [(flag["kind"], round(flag["start_s"], 1)) for flag in _flags(figures)] == [
        (flaw.kind, round(flaw.start_s, 1)) for flaw in song.flaws
    ]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    for text in ("40 cents flat on E5", "late", "-39", "% in tune"):
        assert text in out


def test_coach_against_a_note_list(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], song: DemoSong
) -> None:
    figures = run_json(capsys, "coach", str(files["vocal"]), "--reference", str(files["melody"]))
    flags = _flags(figures)
    assert [flag["kind"] for flag in flags] == ["flat", "late"]
    assert flags[1]["start_s"] == pytest.approx(song.flaws[1].start_s, abs=0.1)
    assert flags[1]["ms"] == pytest.approx(80.0, abs=20.0)
    assert figures["reference"] == str(files["melody"])


def test_coach_against_a_midi_file(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], song: DemoSong, tmp_path: Path
) -> None:
    mido = pytest.importorskip("mido")
    midi_path = tmp_path / "melody.mid"
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(song.tempo_bpm)))
    events = sorted(
        [(note.start_s, "note_on", int(note.midi)) for note in song.melody]
        + [(note.end_s, "note_off", int(note.midi)) for note in song.melody]
    )
    ticks_per_s = 480 * song.tempo_bpm / 60
    now = 0
    for time_s, kind, number in events:
        tick = round(time_s * ticks_per_s)
        track.append(mido.Message(kind, note=number, velocity=80, time=tick - now))
        now = tick
    midi.save(midi_path)
    figures = run_json(capsys, "coach", str(files["vocal"]), "--reference", str(midi_path))
    assert [flag["kind"] for flag in _flags(figures)] == ["flat", "late"]


# --- bad input -------------------------------------------------------------------------------


def _bad_files(folder: Path) -> dict[str, Path]:
    (folder / "text.wav").write_text("this is not audio\n")
    (folder / "empty.wav").write_bytes(b"")
    riff = b"RIFF\x24\x00\x01\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00"
    (folder / "corrupt.wav").write_bytes(riff + np.random.default_rng(7).bytes(64))
    return {
        "missing": folder / "missing.wav",
        "text": folder / "text.wav",
        "empty": folder / "empty.wav",
        "corrupt": folder / "corrupt.wav",
    }


@pytest.mark.parametrize("kind", ["missing", "text", "empty", "corrupt"])
@pytest.mark.parametrize("command", ["analyze", "mix", "master", "coach"])
def test_bad_input_is_one_line_and_status_1(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    tmp_path: Path,
    command: str,
    kind: str,
) -> None:
    bad = str(_bad_files(tmp_path)[kind])
    out_file = str(tmp_path / "out.wav")
    argv = {
        "analyze": ["analyze", bad],
        "mix": ["mix", str(files["drums"]), bad, "-o", out_file],
        "master": ["master", bad, "-o", out_file],
        "coach": ["coach", str(files["vocal"]), "--reference", bad],
    }[command]
    assert main([*argv, "--json"]) == EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"jacameno {command}: error: ")
    assert bad in err
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["master", "{loop}", "-o", "{tmp}/out.mp3"], "must end in .wav or .flac"),
        (["master", "{loop}", "-o", "{tmp}/o.wav", "--target-lufs", "-60"], "-40.0..-5.0"),
        (["mix", "{loop}", "-o", "{tmp}/o.wav", "--gain", "vocals=3"], "no stem named 'vocals'"),
        (["mix", "{loop}", "-o", "{tmp}/o.wav", "--role", "loop=tuba"], "choose one of"),
        (["mix", "{loop}", "-o", "{tmp}/o.wav", "--pan", "loop=left"], "needs a number"),
        (["mix", "{loop}", "{loop}", "-o", "{tmp}/o.wav"], "distinct file names"),
        (["coach", "{loop}", "--svg", "{tmp}/pitch.png"], "must end in .svg"),
        (["coach", "{loop}", "--first-beat", "0.5"], "--first-beat needs --tempo"),
    ],
)
def test_usage_mistakes_exit_2(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    args = [arg.format(loop=files["loop"], tmp=tmp_path) for arg in argv]
    assert main(args) == EXIT_USAGE
    _, err = capsys.readouterr()
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["coach", "take.wav", "--key", "H minor"],
        ["coach", "take.wav", "--tempo", "0"],
        ["mix", "a.wav", "-o", "m.wav", "--preset", "polka"],
        ["master", "a.wav"],
    ],
)
def test_argparse_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == EXIT_USAGE
    assert "Traceback" not in capsys.readouterr().err


# --- as a real process ------------------------------------------------------------------------


def test_progress_goes_to_stderr_and_json_alone_to_stdout(files: dict[str, Path]) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    result = subprocess.run(
        [sys.executable, "-m", "jacameno.api.cli", "analyze", str(files["loop"]), "--json"],
        env={**environment, "PYTHONPATH": str(ROOT), "TTY_COMPATIBLE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["key"] == "A minor"
    assert "measuring loudness, tempo and key" in result.stderr

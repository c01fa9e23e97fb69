"""Stems: each track alone as arranged, through its effects at its volume and pan,
aligned from 0 s and the song's length; muted and non-solo tracks silent."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jacameno.audio_services.arrangement import ArrangedSource, Placement
from jacameno.audio_services.mixing import Stem
from jacameno.audio_services.sources import ArraySource
from jacameno.audio_services.stems import export_stems

SR = 44_100


def clicks(at: int, frames: int = SR) -> ArraySource:
    samples = np.zeros((1, frames), np.float32)
    samples[0, at] = 0.5
    return ArraySource(samples, SR)


def placed(source: ArraySource, start_s: float) -> ArrangedSource:
    return ArrangedSource([Placement.of_clip({"start_s": start_s, "duration_s": 1.0}, source)], SR)


def read_zip(archive: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(archive) as zipped:
        return {
            name: sf.read(io.BytesIO(zipped.read(name)), dtype="float32", always_2d=True)[0].T
            for name in zipped.namelist()
        }


def test_stems_are_aligned_and_the_songs_length(tmp_path: Path) -> None:
    stems = [
        Stem(placed(clicks(100), 0.5), "Kick/Drum"),
        Stem(placed(clicks(0), 2.0), "Snare", pan=-1.0, volume_db=-6.0),
        Stem(placed(clicks(0), 1.0), "Muted", mute=True),
    ]
    archive, names, duration_s = export_stems(stems, SR, tmp_path, audio_format="wav")
    assert names == ["01 Kick_Drum.wav", "02 Snare.wav", "03 Muted.wav"]
    assert duration_s == pytest.approx(3.0)
    files = read_zip(archive)
    assert {audio.shape for audio in files.values()} == {(2, 3 * SR)}
    kick = files["01 Kick_Drum.wav"]
    assert np.flatnonzero(kick[0]).tolist() == [SR // 2 + 100]  # centre: both sides
    assert kick[0, SR // 2 + 100] == pytest.approx(0.5 * np.sqrt(0.5), abs=1e-4)
    snare = files["02 Snare.wav"]
    assert np.flatnonzero(snare[0]).tolist() == [2 * SR]
    assert snare[0, 2 * SR] == pytest.approx(0.5 * 10 ** (-6 / 20), abs=1e-4)
    assert not snare[1].any()  # hard left
    assert not files["03 Muted.wav"].any()


def test_solo_silences_the_others_and_effects_are_applied(tmp_path: Path) -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32)[None, :] * 0.5
    quiet = [{"plugin": "gain", "params": {"gain_db": -12.0}}]
    stems = [
        Stem(ArraySource(tone, SR), "Lead", solo=True, effects=quiet),
        Stem(ArraySource(tone, SR), "Pad"),
    ]
    archive, _names, _duration = export_stems(stems, SR, tmp_path)
    files = read_zip(archive)
    lead, pad = files["01 Lead.flac"], files["02 Pad.flac"]
    assert not pad.any()
    expected = 0.5 * 10 ** (-12 / 20) * np.sqrt(0.5)
    assert np.abs(lead[0]).max() == pytest.approx(expected, rel=0.02)

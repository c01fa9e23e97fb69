"""The automatic mixer: gain staging, pan law, mute/solo, presets and validation."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from jacameno.audio_services.errors import (
    AudioDecodeError,
    AudioLimitError,
    InvalidEffectChainError,
)
from jacameno.audio_services.metering import (
    integrated_loudness_lufs,
    sample_peak_dbfs,
    true_peak_dbtp,
)
from jacameno.audio_services.mix_presets import LEAD_LUFS, MIX_PRESETS, ROLES, get_mix_preset
from jacameno.audio_services.mixing import MIX_CEILING_DBTP, MixResult, Stem, mix, role_for_track
from jacameno.audio_services.plugins import validate_chain

SAMPLE_RATE = 44_100
SECONDS = 6.0
FloatArray = npt.NDArray[np.float32]


def _stem_audio(role: str, rng: np.random.Generator, num_seconds: float = SECONDS) -> FloatArray:
    """A short, characteristic signal for a role (mono or stereo), peaking at 0.5."""
    n = int(num_seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    beat = 0.5
    decay = np.exp(-(t % beat) * 10)
    if role == "drums":
        audio = np.sin(2 * np.pi * 60 * t) * decay + 0.3 * rng.standard_normal(n) * np.exp(
            -((t + beat / 2) % beat) * 25
        )
    elif role == "bass":
        audio = 2 * ((55 * t) % 1.0) - 1
        audio *= 0.3 + 0.7 * decay
    elif role == "vocal":
        pitch = 220 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
        audio = (np.sin(phase) + 0.4 * np.sin(2 * phase) + 0.2 * np.sin(3 * phase)) * (
            np.sin(2 * np.pi * 0.4 * t) > -0.3
        )
    elif role == "guitar":
        audio = np.tanh(3 * sum(np.sin(2 * np.pi * f * t) for f in (196, 247, 294))) * np.exp(
            -(t % 1.0) * 2
        )
    elif role in ("keys", "synth"):
        base = 261.6 if role == "keys" else 130.8
        chord = [np.sin(2 * np.pi * base * r * t + i) for i, r in enumerate((1, 1.26, 1.5))]
        left = sum(chord)
        right = sum(np.roll(c, 300 * (i + 1)) for i, c in enumerate(chord))
        audio = np.stack([left, right])
    elif role == "fx":
        burst = rng.standard_normal(n) * np.exp(-(t % 2.0) * 3)
        audio = np.stack([burst, np.roll(burst, 50)])
    else:
        audio = np.sin(2 * np.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    stem: FloatArray = np.atleast_2d(audio) * (0.5 / np.abs(audio).max())
    return stem.astype(np.float32)


@pytest.fixture(scope="module")
def band() -> list[Stem]:
    """One stem per role at scattered recording levels (-20..0 dB)."""
    rng = np.random.default_rng(11)
    return [
        Stem(
            samples=(_stem_audio(role, rng) * 10 ** (rng.uniform(-20, 0) / 20)).astype(np.float32),
            name=f"{role} track",
            role=role,
        )
        for role in ROLES
    ]


def _pre_bus_lufs(result: MixResult) -> float:
    """Loudness of the summed stems before the mix bus gain."""
    return result.integrated_lufs - result.bus_gain_db


# --- Gain staging -------------------------------------------------------------------------


@pytest.mark.parametrize("preset", list(MIX_PRESETS))
def test_gain_staging_puts_stems_at_the_preset_levels(band: list[Stem], preset: str) -> None:
    settings = get_mix_preset(preset)
    result = mix(band, SAMPLE_RATE, preset)
    for stem, report in zip(band, result.stems, strict=True):
        expected = LEAD_LUFS + settings.role(stem.role).level_lu
        assert report.played
        assert report.level_lufs == pytest.approx(expected, abs=0.01), stem.name
        assert report.input_lufs == pytest.approx(
            integrated_loudness_lufs(stem.samples, SAMPLE_RATE), abs=1e-6
        )
    # Independent check: each stem rendered alone (solo; its reverb return included,
    # the bus glue off as it reacts to each stem's crest factor), measured, and the
    # bus gain taken off: every role sits at the preset's level within 1 LU.
    for stem in band:
        alone = mix([replace(stem, solo=True), *band], SAMPLE_RATE, preset, bus_glue=False)
        expected = LEAD_LUFS + settings.role(stem.role).level_lu
        assert _pre_bus_lufs(alone) == pytest.approx(expected, abs=1.0), stem.role


def test_volume_db_applies_on_top_of_staging(band: list[Stem]) -> None:
    vocal = next(stem for stem in band if stem.role == "vocal")
    plain = mix([replace(vocal, solo=True)], SAMPLE_RATE, "pop")
    louder = mix([replace(vocal, solo=True, volume_db=6.0)], SAMPLE_RATE, "pop")
    assert louder.stems[0].level_lufs - plain.stems[0].level_lufs == pytest.approx(6.0)
    assert louder.stems[0].gain_db - plain.stems[0].gain_db == pytest.approx(6.0)
    assert _pre_bus_lufs(louder) - _pre_bus_lufs(plain) == pytest.approx(6.0, abs=0.3)


def test_recording_level_does_not_change_the_mix(band: list[Stem]) -> None:
    quiet = [replace(stem, samples=stem.samples * np.float32(0.25)) for stem in band]
    loud = mix(band, SAMPLE_RATE, "rock")
    from_quiet = mix(quiet, SAMPLE_RATE, "rock")
    assert from_quiet.integrated_lufs == pytest.approx(loud.integrated_lufs, abs=0.1)
    assert np.allclose(from_quiet.samples, loud.samples, atol=2e-3)


# --- Pan law ----------------------------------------------------------------------------


def test_hard_left_leaves_the_right_channel_silent(band: list[Stem]) -> None:
    bass = next(stem for stem in band if stem.role == "bass")  # no reverb send in pop
    result = mix([replace(bass, pan=-1.0)], SAMPLE_RATE, "pop")
    assert float(np.abs(result.samples[0]).max()) > 0.1
    assert float(np.abs(result.samples[1]).max()) == 0.0
    right = mix([replace(bass, pan=1.0)], SAMPLE_RATE, "pop", bus_glue=False)
    assert float(np.abs(right.samples[0]).max()) == 0.0


@pytest.mark.parametrize("pan", [-1.0, -0.5, 0.0, 0.3, 1.0])
def test_constant_power_pan_keeps_loudness_and_sets_channel_balance(
    band: list[Stem], pan: float
) -> None:
    bass = next(stem for stem in band if stem.role == "bass")
    centre = mix([bass], SAMPLE_RATE, "podcast", bus_glue=False)
    panned = mix([replace(bass, pan=pan)], SAMPLE_RATE, "podcast", bus_glue=False)
    assert _pre_bus_lufs(panned) == pytest.approx(_pre_bus_lufs(centre), abs=0.01)
    angle = (pan + 1) * math.pi / 4
    left, right = (float(np.sqrt(np.mean(ch.astype(np.float64) ** 2))) for ch in panned.samples)
    if pan == 0.0:
        assert left == pytest.approx(right, rel=1e-4)
    elif -1.0 < pan < 1.0:
        assert left / right == pytest.approx(math.cos(angle) / math.sin(angle), rel=0.05)


def test_stereo_stems_pan_as_a_balance(band: list[Stem]) -> None:
    keys = next(stem for stem in band if stem.role == "keys")
    left_only = mix([replace(keys, pan=-1.0)], SAMPLE_RATE, "podcast", bus_glue=False)
    assert float(np.abs(left_only.samples[1]).max()) == 0.0


# --- Mute, solo, lengths, channels ------------------------------------------------------


def test_muted_stems_are_left_out(band: list[Stem]) -> None:
    muted = [replace(stem, mute=stem.role == "drums") for stem in band]
    without = [stem for stem in band if stem.role != "drums"]
    result = mix(muted, SAMPLE_RATE, "pop")
    assert np.array_equal(result.samples, mix(without, SAMPLE_RATE, "pop").samples)
    drums = next(r for r in result.stems if r.role == "drums")
    assert not drums.played
    assert drums.level_lufs == -math.inf


def test_solo_plays_only_soloed_stems(band: list[Stem]) -> None:
    soloed = [replace(stem, solo=stem.role in ("vocal", "bass")) for stem in band]
    only = [stem for stem in band if stem.role in ("vocal", "bass")]
    result = mix(soloed, SAMPLE_RATE, "pop")
    assert np.array_equal(result.samples, mix(only, SAMPLE_RATE, "pop").samples)
    assert [r.played for r in result.stems] == [s.solo for s in soloed]


def test_muted_solo_stays_silent(band: list[Stem]) -> None:
    stems = [replace(band[0], solo=True, mute=True), *band[1:]]
    result = mix(stems, SAMPLE_RATE, "pop")
    assert result.integrated_lufs == -math.inf
    assert not np.any(result.samples)
    assert json.loads(json.dumps(result.to_json()))["integrated_lufs"] is None


def test_lengths_are_padded_and_mono_becomes_stereo() -> None:
    rng = np.random.default_rng(5)
    short_mono = Stem(_stem_audio("vocal", rng, 2.0), "vox", "vocal")
    long_stereo = Stem(_stem_audio("keys", rng, 4.0), "keys", "keys")
    result = mix([short_mono, long_stereo], SAMPLE_RATE, "pop", tail_seconds=1.0)
    assert result.samples.shape == (2, 5 * SAMPLE_RATE)
    assert result.samples.dtype == np.float32
    assert short_mono.samples.shape[0] == 1


def test_silent_and_very_short_stems_do_not_break_the_mix(band: list[Stem]) -> None:
    silent = Stem(np.zeros((1, SAMPLE_RATE), np.float32), "empty", "fx")
    blip = Stem(np.full((1, 100), 0.5, np.float32), "blip", "fx")
    result = mix([*band, silent, blip], SAMPLE_RATE, "pop")
    reports = {r.name: r for r in result.stems}
    assert reports["empty"].input_lufs == -math.inf
    assert reports["empty"].gain_db == 0.0
    # A one-shot is measured in its padded timeline: one 400 ms block holds it.
    assert math.isfinite(reports["blip"].input_lufs)
    assert np.isfinite(result.samples).all()


# --- Presets ----------------------------------------------------------------------------


def test_presets_cover_the_genres_and_every_role() -> None:
    assert {"pop", "hip-hop", "rock", "electronic", "acoustic", "podcast"} <= set(MIX_PRESETS)
    for preset in MIX_PRESETS.values():
        assert set(preset.roles) == set(ROLES)
        assert -24.0 <= preset.mix_lufs <= -12.0
        json.dumps(preset.to_json())


@pytest.mark.parametrize("preset", list(MIX_PRESETS))
def test_preset_chains_are_valid_against_the_catalog(preset: str) -> None:
    settings = MIX_PRESETS[preset]
    for role in settings.roles.values():
        assert validate_chain(list(role.chain)) == list(role.chain)
    assert validate_chain(list(settings.bus_chain)) == list(settings.bus_chain)
    assert validate_chain([settings.reverb]) == [settings.reverb]


@pytest.mark.parametrize("preset", list(MIX_PRESETS))
def test_presets_render_finite_peak_safe_mixes(band: list[Stem], preset: str) -> None:
    result = mix(band, SAMPLE_RATE, preset)
    assert result.samples.shape == (2, int(SECONDS * SAMPLE_RATE))
    assert np.isfinite(result.samples).all()
    assert sample_peak_dbfs(result.samples) < 0.0
    assert true_peak_dbtp(result.samples, SAMPLE_RATE) <= MIX_CEILING_DBTP + 1e-6
    assert result.true_peak_dbtp <= MIX_CEILING_DBTP
    assert result.integrated_lufs == pytest.approx(
        integrated_loudness_lufs(result.samples, SAMPLE_RATE), abs=1e-6
    )
    assert -26.0 < result.integrated_lufs <= get_mix_preset(preset).mix_lufs + 0.5


# --- Track mapping and validation -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "role"),
    [
        ("vocal", "Take 3", "vocal"),
        ("audio", "Lead Vox", "vocal"),
        ("audio", "Kick In", "drums"),
        ("audio", "808", "bass"),
        ("instrument", "Sub Bass", "bass"),
        ("audio", "Rhodes", "keys"),
        ("audio", "Acoustic GTR", "guitar"),
        ("instrument", "Warm Pad", "synth"),
        ("instrument", "Patch 12", "synth"),
        ("audio", "Riser FX", "fx"),
        ("audio", "Take 7", "other"),
    ],
)
def test_role_from_track_kind_and_name(kind: str, name: str, role: str) -> None:
    assert role_for_track(kind, name) == role


def test_stem_from_a_document_track() -> None:
    track = {
        "name": "Lead Vox",
        "kind": "audio",
        "volume_db": -3.0,
        "pan": 0.25,
        "mute": False,
        "solo": True,
        "effects": [{"plugin": "compressor", "params": {"ratio": 2.0}}],
    }
    stem = Stem.from_track(track, np.zeros((1, 10), np.float32))
    assert (stem.role, stem.volume_db, stem.pan, stem.solo) == ("vocal", -3.0, 0.25, True)
    assert stem.effects[0]["plugin"] == "compressor"  # type: ignore[index]


def test_track_fields_default_and_are_type_checked() -> None:
    samples = np.zeros((1, 10), np.float32)
    stem = Stem.from_track({"name": None, "kind": "bus", "volume_db": None}, samples)
    assert (stem.name, stem.role, stem.volume_db, stem.pan) == ("", "other", 0.0, 0.0)
    with pytest.raises(InvalidEffectChainError, match="'pan' must be a number"):
        Stem.from_track({"name": "x", "pan": "left"}, samples)


def test_track_effects_are_applied(band: list[Stem]) -> None:
    vocal = next(stem for stem in band if stem.role == "vocal")
    dry = mix([vocal], SAMPLE_RATE, "podcast")
    crushed = mix(
        [replace(vocal, effects=[{"plugin": "bitcrush", "params": {"bit_depth": 2}}])],
        SAMPLE_RATE,
        "podcast",
    )
    assert not np.allclose(dry.samples, crushed.samples, atol=1e-3)


def test_pitch_shifted_tracks_are_heard(band: list[Stem]) -> None:
    # pedalboard's pitch shifter outputs silence when streamed; the mixer runs it in windows.
    vocal = next(stem for stem in band if stem.role == "vocal")
    shifted = replace(vocal, effects=[{"plugin": "pitch_shift", "params": {"semitones": 5}}])
    result = mix([shifted], SAMPLE_RATE, "podcast")
    assert math.isfinite(result.stems[0].input_lufs)
    assert result.integrated_lufs == pytest.approx(
        mix([vocal], SAMPLE_RATE, "podcast").integrated_lufs, abs=1.0
    )


def test_bad_effect_chains_surface_as_invalid_effect_chain(band: list[Stem]) -> None:
    bad = replace(band[2], effects=[{"plugin": "compressor", "params": {"ratio": 100}}])
    with pytest.raises(InvalidEffectChainError, match=r"stems\[2\].*'ratio' = 100"):
        mix([*band[:2], bad], SAMPLE_RATE, "pop")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"pan": 1.5}, InvalidEffectChainError, "pan"),
        ({"pan": math.nan}, InvalidEffectChainError, "pan"),
        ({"volume_db": 40.0}, InvalidEffectChainError, "volume_db"),
        ({"role": "cowbell"}, InvalidEffectChainError, "unknown role"),
        ({"samples": np.full((1, 1000), np.nan, np.float32)}, AudioDecodeError, "NaN"),
        ({"samples": np.zeros((3, 1000), np.float32)}, AudioLimitError, "mono or stereo"),
    ],
)
def test_bad_stems_are_refused(
    band: list[Stem], change: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        mix([replace(band[0], **change)], SAMPLE_RATE, "pop")


def test_unknown_preset_and_empty_mix_are_refused(band: list[Stem]) -> None:
    with pytest.raises(InvalidEffectChainError, match="unknown mix preset"):
        mix(band, SAMPLE_RATE, "polka")
    with pytest.raises(AudioLimitError, match="no stems"):
        mix([], SAMPLE_RATE, "pop")

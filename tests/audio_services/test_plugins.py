"""The effect catalog: schema, chain validation and rendering of every plugin."""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from jacameno.audio_services.errors import InvalidEffectChainError
from jacameno.audio_services.plugins import (
    CATEGORIES,
    EffectSpec,
    PluginSpec,
    build_pedalboard,
    catalog,
    get_plugin,
    validate_chain,
)

SAMPLE_RATE = 44_100
PLUGINS = catalog()


@pytest.fixture(scope="module")
def program() -> npt.NDArray[np.float32]:
    """One second of stereo: a 220 Hz tone, a click and noise, peaking near -6 dBFS."""
    rng = np.random.default_rng(7)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(t.size)
    mono[SAMPLE_RATE // 2] += 0.2
    return np.stack([mono, 0.8 * mono]).astype(np.float32)


def _extreme(spec: PluginSpec, end: str) -> dict[str, Any]:
    params = {p.name: p.minimum if end == "min" else p.maximum for p in spec.params}
    return {"plugin": spec.id, "params": params}


def test_catalog_covers_every_category_and_has_unique_ids() -> None:
    ids = [spec.id for spec in PLUGINS]
    assert len(ids) == len(set(ids))
    assert {spec.category for spec in PLUGINS} == set(CATEGORIES)
    for required in ("low_shelf", "high_shelf", "peak", "high_pass", "low_pass", "compressor",
                     "noise_gate", "reverb", "delay", "chorus", "limiter", "distortion",
                     "pitch_shift", "gain"):  # fmt: skip
        assert get_plugin(required).id == required


@pytest.mark.parametrize("spec", PLUGINS, ids=lambda spec: spec.id)
def test_schema_is_consistent_and_serialises_to_json(spec: PluginSpec) -> None:
    for param in spec.params:
        assert param.minimum <= param.default <= param.maximum, param.name
        assert param.description
    as_json = json.loads(json.dumps(spec.to_json()))
    assert as_json["id"] == spec.id
    assert as_json["category"] == spec.category
    assert [p["name"] for p in as_json["params"]] == [p.name for p in spec.params]
    assert {"name", "unit", "min", "max", "default", "description"} <= set(as_json["params"][0])


def test_catalog_filters_by_category() -> None:
    eq = catalog("eq")
    assert eq
    assert all(spec.category == "eq" for spec in eq)
    with pytest.raises(InvalidEffectChainError, match="unknown plugin category"):
        catalog("nonsense")


@pytest.mark.parametrize("spec", PLUGINS, ids=lambda spec: spec.id)
@pytest.mark.parametrize("setting", ["default", "min", "max"])
def test_every_plugin_renders_finite_audio(
    spec: PluginSpec, setting: str, program: npt.NDArray[np.float32]
) -> None:
    effect = {"plugin": spec.id} if setting == "default" else _extreme(spec, setting)
    board = build_pedalboard([effect], SAMPLE_RATE)
    output = board(program, SAMPLE_RATE)
    assert output.shape[0] == 2
    assert output.shape[1] > 0
    assert np.isfinite(output).all()
    assert float(np.abs(output).max()) < 1e3


@pytest.mark.parametrize("sample_rate", [16_000, 22_050])
def test_filter_frequencies_are_clamped_below_nyquist(
    sample_rate: int, program: npt.NDArray[np.float32]
) -> None:
    chain = [
        {"plugin": "high_pass", "params": {"cutoff_frequency_hz": 20_000}},
        {"plugin": "low_pass", "params": {"cutoff_frequency_hz": 20_000}},
        {"plugin": "peak", "params": {"cutoff_frequency_hz": 20_000, "gain_db": 12}},
    ]
    output = build_pedalboard(chain, sample_rate)(program, sample_rate)
    assert np.isfinite(output).all()


def test_validation_fills_defaults_in_order() -> None:
    chain = validate_chain(
        [
            {"plugin": "compressor", "params": {"ratio": 3}},
            {"plugin": "reverb", "enabled": False, "id": "fx-1"},
        ]
    )
    assert [effect.plugin for effect in chain] == ["compressor", "reverb"]
    assert chain[0].params == {**get_plugin("compressor").defaults(), "ratio": 3.0}
    assert chain[1].enabled is False
    assert validate_chain(None) == []
    assert validate_chain([]) == []


def test_specs_round_trip_through_json_and_pickle() -> None:
    chain = validate_chain([{"plugin": "delay", "params": {"delay_seconds": 0.5}}])
    assert validate_chain([json.loads(json.dumps(chain[0].to_json()))]) == chain
    assert pickle.loads(pickle.dumps(chain)) == chain
    assert validate_chain(chain) == chain  # validated specs pass through


def test_disabled_effects_are_not_built() -> None:
    board = build_pedalboard(
        [{"plugin": "gain", "params": {"gain_db": -60}, "enabled": False}], SAMPLE_RATE
    )
    assert len(board) == 0


def test_integral_yjs_floats_and_ints_are_numbers() -> None:
    (effect,) = validate_chain([{"plugin": "bitcrush", "params": {"bit_depth": 8}}])
    assert effect.params["bit_depth"] == 8.0
    assert isinstance(effect.params["bit_depth"], float)


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ([{"plugin": "warp_drive"}], r"effects\[0\]: unknown plugin 'warp_drive'"),
        ([{"params": {}}], r"effects\[0\]: missing 'plugin'"),
        ([{"plugin": "gain"}, {"plugin": "compressor", "params": {"knee_db": 3}}],
         r"effects\[1\] \(compressor\): unknown parameter 'knee_db'"),
        ([{"plugin": "compressor", "params": {"ratio": 50}}],
         r"effects\[0\] \(compressor\): parameter 'ratio' = 50 is outside 1\.\.20"),
        ([{"plugin": "compressor", "params": {"ratio": math.nan}}], r"'ratio' is NaN"),
        ([{"plugin": "compressor", "params": {"ratio": math.inf}}], r"'ratio' = inf is outside"),
        ([{"plugin": "gain", "params": {"gain_db": "loud"}}], r"'gain_db' must be a number"),
        ([{"plugin": "gain", "params": {"gain_db": True}}], r"'gain_db' must be a number"),
        ([{"plugin": "gain", "params": [1, 2]}], r"'params' must be a map"),
        ([{"plugin": "gain", "enabled": "yes"}], r"'enabled' must be true or false"),
        ([{"plugin": "gain", "colour": "red"}], r"unknown keys \['colour'\]"),
        (["gain"], r"effects\[0\]: expected a map"),
        ({"plugin": "gain"}, r"effects must be a list"),
    ],
)  # fmt: skip
def test_invalid_chains_name_the_entry_and_parameter(chain: Any, message: str) -> None:
    with pytest.raises(InvalidEffectChainError, match=message):
        validate_chain(chain)


def test_build_pedalboard_validates_raw_chains() -> None:
    with pytest.raises(InvalidEffectChainError, match="unknown plugin"):
        build_pedalboard([{"plugin": "nope"}], SAMPLE_RATE)


def test_effect_spec_is_frozen() -> None:
    effect = EffectSpec("gain", {"gain_db": 0.0})
    with pytest.raises(AttributeError):
        effect.plugin = "other"  # type: ignore[misc]

"""The catalog of effect plugins the mixing engine can apply, and chain validation.

Every effect a track (or a mix preset) may carry is listed here with its
parameter schema. The REST API serves :func:`catalog` (``GET /api/v1/vst/plugins``)
and the mixing engine runs every chain through :func:`validate_chain`, so what
clients are offered and what the engine accepts agree by construction.

An effect in a project document is a map ``{"plugin": id, "params": {...}}``
with optional ``"enabled"`` (bool, default true) and ``"id"`` (an opaque
string for collaborative editing). Omitted parameters take their defaults.
All parameters are numbers (Yjs numbers are floats); names carry their units.

The DSP is Spotify's pedalboard (JUCE); :func:`build_pedalboard` maps specs to
its plugins. Notes on a few of them:

- ``high_pass`` / ``low_pass`` are first-order (6 dB/octave); stack two for 12.
- ``limiter`` is JUCE's loudness limiter, not a true-peak ceiling; mastering
  has its own true-peak limiter (:mod:`audio_services.limiter`).
- Filter frequencies are clamped below 0.45 x the sample rate when one is given,
  since JUCE's filters diverge at Nyquist.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pedalboard

# pedalboard's own stubs do not re-export Pedalboard explicitly.
from pedalboard import Pedalboard  # type: ignore[attr-defined]

from jacameno.audio_services.errors import InvalidEffectChainError

CATEGORIES: Final = ("eq", "dynamics", "space", "modulation", "distortion", "pitch", "utility")
_NYQUIST_MARGIN = 0.45
_EFFECT_KEYS: Final = frozenset({"plugin", "params", "enabled", "id"})


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One numeric parameter: its range (inclusive), default and unit."""

    name: str
    unit: str
    minimum: float
    maximum: float
    default: float
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "min": self.minimum,
            "max": self.maximum,
            "default": self.default,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """An effect the engine can apply: identity, category and parameter schema."""

    id: str
    name: str
    category: str
    description: str
    params: tuple[ParamSpec, ...]
    factory: Callable[..., pedalboard.Plugin] = field(repr=False, compare=False)
    frequency_params: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def param(self, name: str) -> ParamSpec | None:
        return next((spec for spec in self.params if spec.name == name), None)

    def defaults(self) -> dict[str, float]:
        return {spec.name: spec.default for spec in self.params}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "params": [spec.to_json() for spec in self.params],
        }


@dataclass(frozen=True, slots=True)
class EffectSpec:
    """A validated effect: a catalog plugin id with every parameter filled in."""

    plugin: str
    params: Mapping[str, float]
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "params": dict(self.params), "enabled": self.enabled}


def _param(
    name: str, unit: str, minimum: float, maximum: float, default: float, description: str
) -> ParamSpec:
    return ParamSpec(name, unit, float(minimum), float(maximum), float(default), description)


def _cutoff(default: float, description: str = "Cutoff frequency") -> ParamSpec:
    return _param("cutoff_frequency_hz", "Hz", 20, 20_000, default, description)


def _eq_gain() -> ParamSpec:
    return _param("gain_db", "dB", -24, 24, 0, "Boost (positive) or cut (negative)")


def _q(default: float, maximum: float = 10) -> ParamSpec:
    return _param("q", "", 0.1, maximum, default, "Filter resonance; higher is narrower")


def _threshold(minimum: float, default: float) -> ParamSpec:
    return _param("threshold_db", "dBFS", minimum, 0, default, "Level where the effect engages")


def _times(attack_ms: float, release_ms: float) -> tuple[ParamSpec, ParamSpec]:
    return (
        _param("attack_ms", "ms", 0.1, 200, attack_ms, "Time to react to a rise in level"),
        _param("release_ms", "ms", 5, 2_000, release_ms, "Time to recover after the level falls"),
    )


def _mix(default: float) -> ParamSpec:
    return _param("mix", "", 0, 1, default, "Wet share: 0 is dry only, 1 is effect only")


_FEEDBACK = _param("feedback", "", -0.95, 0.95, 0, "Share of the output fed back")
_EQ = frozenset({"cutoff_frequency_hz"})

# Short aliases and no formatter keep the table at one entry per few lines.
_P = PluginSpec
_G = pedalboard
# fmt: off
_PLUGINS: Final[tuple[PluginSpec, ...]] = (
    _P("gain", "Gain", "utility", "Volume change without colouring.",
       (_param("gain_db", "dB", -60, 24, 0, "Gain change"),), _G.Gain),
    _P("high_pass", "High-pass filter", "eq", "First-order (6 dB/oct) low cut.",
       (_cutoff(80, "Frequency attenuated by 3 dB; lower ones fall off"),),
       _G.HighpassFilter, _EQ),
    _P("low_pass", "Low-pass filter", "eq", "First-order (6 dB/oct) high cut.",
       (_cutoff(12_000, "Frequency attenuated by 3 dB; higher ones fall off"),),
       _G.LowpassFilter, _EQ),
    _P("low_shelf", "Low shelf", "eq", "Boost or cut everything below a frequency.",
       (_cutoff(120), _eq_gain(), _q(0.7071)), _G.LowShelfFilter, _EQ),
    _P("high_shelf", "High shelf", "eq", "Boost or cut everything above a frequency.",
       (_cutoff(8_000), _eq_gain(), _q(0.7071)), _G.HighShelfFilter, _EQ),
    _P("peak", "Peak EQ", "eq", "Bell boost or cut around a frequency.",
       (_cutoff(1_000, "Centre frequency"), _eq_gain(), _q(1.0, maximum=18)),
       _G.PeakFilter, _EQ),
    _P("compressor", "Compressor", "dynamics", "Reduces the level above a threshold.",
       (_threshold(-60, -18),
        _param("ratio", ":1", 1, 20, 4, "Input dB above threshold per output dB"),
        *_times(10, 100)),
       _G.Compressor),
    _P("noise_gate", "Noise gate", "dynamics", "Attenuates the signal below a threshold.",
       (_threshold(-90, -60),
        _param("ratio", ":1", 1, 20, 10, "Expansion ratio below the threshold"),
        *_times(1, 100)),
       _G.NoiseGate),
    _P("limiter", "Limiter", "dynamics", "Loudness limiter (JUCE); not a true-peak ceiling.",
       (_threshold(-30, -1), _param("release_ms", "ms", 1, 1_000, 100, "Recovery time")),
       _G.Limiter),
    _P("reverb", "Reverb", "space", "Algorithmic room reverb (Freeverb).",
       (_param("room_size", "", 0, 1, 0.5, "Size of the simulated room"),
        _param("damping", "", 0, 1, 0.5, "High-frequency absorption"),
        _param("wet_level", "", 0, 1, 0.33, "Level of the reverberated signal"),
        _param("dry_level", "", 0, 1, 0.4, "Level of the direct signal"),
        _param("width", "", 0, 1, 1, "Stereo width of the reverb")),
       _G.Reverb),
    _P("delay", "Delay", "space", "Echo with feedback.",
       (_param("delay_seconds", "s", 0.001, 2, 0.25, "Time between echoes"),
        _param("feedback", "", 0, 0.95, 0.3, "Share of each echo fed back"),
        _mix(0.3)),
       _G.Delay),
    _P("chorus", "Chorus", "modulation", "Modulated short delay; flanger at small delays.",
       (_param("rate_hz", "Hz", 0.01, 10, 1, "Modulation speed"),
        _param("depth", "", 0, 1, 0.25, "Modulation depth"),
        _param("centre_delay_ms", "ms", 1, 50, 7, "Delay the modulation swings around"),
        _FEEDBACK, _mix(0.5)),
       _G.Chorus),
    _P("phaser", "Phaser", "modulation", "Six-stage swept all-pass phaser.",
       (_param("rate_hz", "Hz", 0.01, 10, 1, "Sweep speed"),
        _param("depth", "", 0, 1, 0.5, "Sweep depth"),
        _param("centre_frequency_hz", "Hz", 100, 10_000, 1_300, "Centre of the sweep"),
        _FEEDBACK, _mix(0.5)),
       _G.Phaser, frozenset({"centre_frequency_hz"})),
    _P("distortion", "Distortion", "distortion", "tanh waveshaper saturation.",
       (_param("drive_db", "dB", 0, 60, 20, "Gain into the waveshaper"),), _G.Distortion),
    _P("clipper", "Hard clipper", "distortion", "Clips the waveform at a threshold.",
       (_threshold(-30, -6),), _G.Clipping),
    _P("bitcrush", "Bitcrusher", "distortion", "Reduces the bit depth (lo-fi).",
       (_param("bit_depth", "bits", 1, 16, 8, "Resolution of each sample"),), _G.Bitcrush),
    _P("pitch_shift", "Pitch shift", "pitch", "Shifts pitch, keeps duration (Rubber Band).",
       (_param("semitones", "semitones", -24, 24, 0, "Shift; 12 is one octave"),),
       _G.PitchShift),
)
# fmt: on

_BY_ID: Final[dict[str, PluginSpec]] = {spec.id: spec for spec in _PLUGINS}


def catalog(category: str | None = None) -> list[PluginSpec]:
    """Every plugin, optionally only one category's (see :data:`CATEGORIES`)."""
    if category is None:
        return list(_PLUGINS)
    if category not in CATEGORIES:
        raise InvalidEffectChainError(
            f"unknown plugin category {category!r}; choose one of {', '.join(CATEGORIES)}"
        )
    return [spec for spec in _PLUGINS if spec.category == category]


def get_plugin(plugin_id: str) -> PluginSpec:
    """The catalog entry for ``plugin_id``; raises :class:`InvalidEffectChainError`."""
    spec = _BY_ID.get(plugin_id) if isinstance(plugin_id, str) else None
    if spec is None:
        raise InvalidEffectChainError(
            f"unknown plugin {plugin_id!r}; known plugins: {', '.join(_BY_ID)}"
        )
    return spec


def validate_effect(effect: Mapping[str, Any] | EffectSpec, where: str = "effect") -> EffectSpec:
    """Check one effect against the catalog and fill in defaults.

    ``where`` names the entry in error messages (e.g. ``"effects[2]"``).
    """
    if isinstance(effect, EffectSpec):
        effect = effect.to_json()
    if not isinstance(effect, Mapping):
        raise InvalidEffectChainError(
            f"{where}: expected a map with 'plugin' and 'params', got {type(effect).__name__}"
        )
    unknown_keys = sorted(set(effect) - _EFFECT_KEYS, key=str)
    if unknown_keys:
        raise InvalidEffectChainError(
            f"{where}: unknown keys {unknown_keys}; allowed: plugin, params, enabled, id"
        )
    if "plugin" not in effect:
        raise InvalidEffectChainError(f"{where}: missing 'plugin'")
    try:
        spec = get_plugin(effect["plugin"])
    except InvalidEffectChainError as exc:
        raise InvalidEffectChainError(f"{where}: {exc}") from None
    where = f"{where} ({spec.id})"
    enabled = effect.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidEffectChainError(f"{where}: 'enabled' must be true or false")
    given = effect.get("params") or {}
    if not isinstance(given, Mapping):
        raise InvalidEffectChainError(f"{where}: 'params' must be a map of name to number")
    params = spec.defaults()
    for name, value in given.items():
        param = spec.param(name) if isinstance(name, str) else None
        if param is None:
            names = ", ".join(p.name for p in spec.params)
            raise InvalidEffectChainError(
                f"{where}: unknown parameter {name!r}; {spec.id} takes {names}"
            )
        params[name] = _check_value(param, value, where)
    return EffectSpec(spec.id, params, enabled)


def _check_value(param: ParamSpec, value: Any, where: str) -> float:
    # bool is an int subclass in Python; a switch is never a valid number here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEffectChainError(
            f"{where}: parameter {param.name!r} must be a number, got {type(value).__name__}"
        )
    number = float(value)
    if math.isnan(number):
        raise InvalidEffectChainError(f"{where}: parameter {param.name!r} is NaN")
    if not param.minimum <= number <= param.maximum:
        raise InvalidEffectChainError(
            f"{where}: parameter {param.name!r} = {number:g} is outside "
            f"{param.minimum:g}..{param.maximum:g} {param.unit}".rstrip()
        )
    return number


def validate_chain(effects: Sequence[Mapping[str, Any] | EffectSpec] | None) -> list[EffectSpec]:
    """Validate an effect chain in order; raises :class:`InvalidEffectChainError`
    naming the offending entry (``effects[i]``) and parameter."""
    if effects is None:
        return []
    if isinstance(effects, str | bytes | Mapping) or not isinstance(effects, Sequence):
        raise InvalidEffectChainError("effects must be a list of effect maps")
    return [validate_effect(effect, f"effects[{index}]") for index, effect in enumerate(effects)]


def build_pedalboard(
    effects: Sequence[Mapping[str, Any] | EffectSpec], sample_rate: int | None = None
) -> Pedalboard:
    """A :class:`pedalboard.Pedalboard` for a chain (validated here if needed).

    Disabled effects are left out. With ``sample_rate`` given, filter
    frequencies are clamped to ``0.45 * sample_rate``.
    """
    plugins = []
    for effect in validate_chain(effects):
        if not effect.enabled:
            continue
        spec = _BY_ID[effect.plugin]
        params = dict(effect.params)
        if sample_rate is not None:
            for name in spec.frequency_params:
                params[name] = min(params[name], _NYQUIST_MARGIN * sample_rate)
        plugins.append(spec.factory(**params))
    return Pedalboard(plugins)

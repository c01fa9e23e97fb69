"""Genre presets for the automatic mix, as data checked against the plugin catalog.

A preset sets, for every stem role, a loudness relative to the lead (``level_lu``),
an insert chain (EQ and compression), and a send level into one shared reverb
bus; plus a glue chain on the mix bus and the mix bus loudness.

Insert chains are designed for stems entering at :data:`PROCESSING_LUFS`
(the mixer normalises every stem to it first), so their thresholds are
meaningful whatever the recording level. The bus chain sees the mix at the
preset's ``mix_lufs``. Every chain is run through
:func:`audio_services.plugins.validate_chain` when this module is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from jacameno.audio_services.errors import InvalidEffectChainError
from jacameno.audio_services.plugins import EffectSpec, validate_chain, validate_effect

ROLES: Final = ("drums", "bass", "vocal", "keys", "guitar", "synth", "fx", "other")
# Every stem is normalised to this loudness before its preset chain.
PROCESSING_LUFS: Final = -20.0
# Loudness of a stem at level_lu = 0 (the lead), before the mix bus gain.
LEAD_LUFS: Final = -20.0


@dataclass(frozen=True, slots=True)
class RoleMix:
    """How one role sits in a preset: level (LU from the lead), inserts, reverb send."""

    level_lu: float
    chain: tuple[EffectSpec, ...] = ()
    reverb_send_db: float | None = None


@dataclass(frozen=True, slots=True)
class MixPreset:
    """A genre's mix: per-role settings, shared reverb, bus glue and loudness."""

    name: str
    description: str
    roles: Mapping[str, RoleMix]
    reverb: EffectSpec
    bus_chain: tuple[EffectSpec, ...]
    mix_lufs: float = -18.0

    def role(self, role: str) -> RoleMix:
        return self.roles[role]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "mix_lufs": self.mix_lufs,
            "reverb": self.reverb.to_json(),
            "bus_chain": [effect.to_json() for effect in self.bus_chain],
            "roles": {
                role: {
                    "level_lu": settings.level_lu,
                    "chain": [effect.to_json() for effect in settings.chain],
                    "reverb_send_db": settings.reverb_send_db,
                }
                for role, settings in self.roles.items()
            },
        }


def _fx(plugin: str, **params: float) -> dict[str, Any]:
    return {"plugin": plugin, "params": params}


def _chain(*effects: dict[str, Any]) -> tuple[EffectSpec, ...]:
    return tuple(validate_chain(list(effects)))


def _high_pass(cutoff_hz: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two first-order sections: 12 dB/octave."""
    return (_fx("high_pass", cutoff_frequency_hz=cutoff_hz),) * 2


def _comp(threshold_db: float, ratio: float, attack_ms: float, release_ms: float) -> dict[str, Any]:
    return _fx(
        "compressor",
        threshold_db=threshold_db,
        ratio=ratio,
        attack_ms=attack_ms,
        release_ms=release_ms,
    )


def _peak(hz: float, gain_db: float, q: float = 1.0) -> dict[str, Any]:
    return _fx("peak", cutoff_frequency_hz=hz, gain_db=gain_db, q=q)


def _air(gain_db: float, hz: float = 9_000) -> dict[str, Any]:
    return _fx("high_shelf", cutoff_frequency_hz=hz, gain_db=gain_db, q=0.7071)


def _reverb(room_size: float, damping: float = 0.5) -> EffectSpec:
    # Freeverb's wet output runs about 3..10 dB above its input; a wet level of
    # 0.5 (-6 dB) makes the return roughly track the send level.
    params = {"room_size": room_size, "damping": damping, "wet_level": 0.5, "dry_level": 0.0}
    return validate_effect(_fx("reverb", **params), "reverb")


def _glue(threshold_db: float, ratio: float) -> tuple[EffectSpec, ...]:
    return _chain(_comp(threshold_db, ratio, 30, 200))


# Insert chains shared by several presets (stems at PROCESSING_LUFS = -20).
_VOCAL = _chain(*_high_pass(90), _peak(300, -2), _air(2), _comp(-24, 3, 5, 80))
_DRUMS = _chain(_fx("high_pass", cutoff_frequency_hz=30), _peak(400, -2), _comp(-18, 3, 10, 120))
_BASS = _chain(*_high_pass(30), _peak(250, -2), _comp(-22, 4, 20, 150))
_KEYS = _chain(*_high_pass(120), _peak(500, -2), _comp(-20, 2, 15, 150))
_GUITAR = _chain(*_high_pass(100), _peak(3_000, 1.5), _comp(-20, 2, 15, 150))
_SYNTH = _chain(*_high_pass(120), _comp(-20, 2, 15, 150))
_FX = _chain(*_high_pass(200))
_OTHER = _chain(*_high_pass(40))


def _roles(levels: Mapping[str, float], sends: Mapping[str, float | None], **chains: Any) -> Any:
    defaults = {
        "vocal": _VOCAL,
        "drums": _DRUMS,
        "bass": _BASS,
        "keys": _KEYS,
        "guitar": _GUITAR,
        "synth": _SYNTH,
        "fx": _FX,
        "other": _OTHER,
    }
    defaults.update(chains)
    return {role: RoleMix(levels[role], defaults[role], sends.get(role)) for role in ROLES}


MIX_PRESETS: Final[Mapping[str, MixPreset]] = {
    preset.name: preset
    for preset in (
        MixPreset(
            "pop",
            "Vocal-led, bright, moderate glue and a medium room.",
            _roles(
                dict(vocal=0, drums=-2, bass=-4, keys=-7, guitar=-6, synth=-7, fx=-12, other=-8),
                dict(vocal=-12, drums=-24, keys=-16, guitar=-18, synth=-18, fx=-10, other=-20),
            ),
            _reverb(0.5),
            _glue(-12, 1.5),
        ),
        MixPreset(
            "hip-hop",
            "Vocal and drums up front, heavy low end, short dry space.",
            _roles(
                dict(vocal=0, drums=-1, bass=-2, keys=-9, guitar=-9, synth=-8, fx=-12, other=-9),
                dict(vocal=-18, drums=-30, keys=-20, synth=-20, fx=-14),
                vocal=_chain(*_high_pass(100), _peak(300, -3), _air(3), _comp(-26, 4, 3, 60)),
            ),
            _reverb(0.3, damping=0.7),
            _glue(-12, 2.0),
        ),
        MixPreset(
            "rock",
            "Drums and guitars forward, compressed drums, plate-like space.",
            _roles(
                dict(vocal=-1, drums=0, bass=-4, keys=-8, guitar=-2, synth=-9, fx=-12, other=-8),
                dict(vocal=-14, drums=-20, guitar=-20, keys=-18, synth=-18, fx=-12),
                drums=_chain(
                    _fx("high_pass", cutoff_frequency_hz=30), _peak(400, -3), _comp(-22, 4, 5, 100)
                ),
            ),
            _reverb(0.6, damping=0.4),
            _glue(-12, 2.0),
        ),
        MixPreset(
            "electronic",
            "Kick and bass led, wide synths, big reverb on synths and effects.",
            _roles(
                dict(vocal=-3, drums=0, bass=-1, keys=-7, guitar=-8, synth=-3, fx=-8, other=-8),
                dict(vocal=-14, drums=-30, keys=-14, synth=-12, fx=-10),
                synth=_chain(*_high_pass(100), _air(1.5), _comp(-20, 2, 15, 150)),
            ),
            _reverb(0.8, damping=0.3),
            _glue(-12, 2.0),
        ),
        MixPreset(
            "acoustic",
            "Natural balance, light compression, a generous hall.",
            _roles(
                dict(vocal=0, drums=-6, bass=-6, keys=-4, guitar=-2, synth=-8, fx=-14, other=-8),
                dict(vocal=-13, drums=-20, keys=-14, guitar=-14, synth=-16, bass=-26, other=-18),
                vocal=_chain(*_high_pass(80), _air(1.5), _comp(-22, 2, 10, 120)),
                guitar=_chain(*_high_pass(80), _comp(-20, 1.5, 20, 200)),
            ),
            _reverb(0.75, damping=0.4),
            _glue(-10, 1.3),
        ),
        MixPreset(
            "podcast",
            "Speech first and dry; music and effects sit well under the voice.",
            _roles(
                dict(
                    vocal=0, drums=-16, bass=-16, keys=-16, guitar=-16, synth=-16, fx=-10, other=-14
                ),
                {},
                vocal=_chain(
                    *_high_pass(80),
                    _fx("noise_gate", threshold_db=-55, ratio=4, attack_ms=2, release_ms=150),
                    _peak(200, -2),
                    _peak(4_000, 2),
                    _comp(-24, 3, 5, 100),
                ),
            ),
            _reverb(0.2, damping=0.8),
            _glue(-14, 2.0),
        ),
    )
}


def get_mix_preset(name: str) -> MixPreset:
    """A preset by name; raises :class:`InvalidEffectChainError` naming the choices."""
    preset = MIX_PRESETS.get(name) if isinstance(name, str) else None
    if preset is None:
        raise InvalidEffectChainError(
            f"unknown mix preset {name!r}; choose one of {', '.join(MIX_PRESETS)}"
        )
    return preset

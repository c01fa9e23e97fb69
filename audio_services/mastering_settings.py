"""Mastering settings: what :func:`audio_services.mastering.master` aims for, and presets.

Presets (:data:`MASTER_PRESETS`): ``streaming`` -14 LUFS / -1 dBTP, ``club``
-9 LUFS / -1 dBTP (-1 rather than -0.5 because club masters travel as MP3/AAC
too, whose decoders overshoot loud material by up to about 1 dB),
``broadcast`` -23 LUFS / -1 dBTP (EBU R128), ``podcast`` -16 LUFS / -1 dBTP
(Apple's spoken-word figure).

Settings outside their ranges raise :class:`InvalidEffectChainError`, the
package's error for processing parameters outside their schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Final

from jacameno.audio_services.errors import InvalidEffectChainError

# Targets at least this loud get the soft clipper when ``clipper`` is None.
AUTO_CLIPPER_LUFS: Final = -12.0


@dataclass(frozen=True, slots=True)
class MasterSettings:
    """What :func:`master` aims for. Levels in LUFS/dBTP, times in ms.

    ``compression_ratio`` 1 turns the compressor off; its threshold is
    ``target_lufs + compressor_threshold_lu`` dBFS. ``stereo_width`` scales the
    side signal (0 mono, 1 unchanged, 2 twice as wide). ``tilt_db`` above 0
    brightens (high shelf up, low shelf down by half each, pivot 1 kHz).
    ``clipper`` None means on for targets of -12 LUFS and louder.
    With a reference track, ``match_reference_loudness`` takes its integrated
    loudness as the target and ``reference_match_amount`` (0..1) sets how much
    of the spectral difference is corrected.
    """

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    compression_ratio: float = 1.5
    compressor_threshold_lu: float = 6.0
    compressor_attack_ms: float = 30.0
    compressor_release_ms: float = 200.0
    stereo_width: float = 1.0
    low_cut_hz: float | None = None
    tilt_db: float = 0.0
    clipper: bool | None = None
    limiter_lookahead_ms: float = 3.0
    limiter_release_ms: float = 80.0
    loudness_tolerance_lu: float = 0.5
    max_passes: int = 4
    match_reference_loudness: bool = True
    reference_match_amount: float = 0.75

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if value is None and name == "low_cut_hz":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidEffectChainError(f"master setting {name!r} must be a number")
            if not low <= value <= high:  # also rejects NaN
                raise InvalidEffectChainError(
                    f"master setting {name!r} = {value} is outside {low}..{high}"
                )
        if not isinstance(self.max_passes, int) or isinstance(self.max_passes, bool):
            raise InvalidEffectChainError("master setting 'max_passes' must be an integer")
        for name in ("clipper", "match_reference_loudness"):
            value = getattr(self, name)
            if not (isinstance(value, bool) or (value is None and name == "clipper")):
                raise InvalidEffectChainError(f"master setting {name!r} must be true or false")

    @property
    def uses_clipper(self) -> bool:
        return self.target_lufs >= AUTO_CLIPPER_LUFS if self.clipper is None else self.clipper

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MasterSettings:
        """Settings from a document map: an optional ``preset`` plus field overrides.

        Yjs numbers are floats, so an integral float is accepted for ``max_passes``.
        """
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known - {"preset"})
        if unknown:
            raise InvalidEffectChainError(
                f"unknown master settings {unknown}; known: preset, {', '.join(sorted(known))}"
            )
        overrides = {key: value for key, value in data.items() if key != "preset"}
        passes = overrides.get("max_passes")
        if isinstance(passes, float) and passes.is_integer():
            overrides["max_passes"] = int(passes)
        return master_settings(data.get("preset", "streaming"), **overrides)


TARGET_LUFS_RANGE: Final = (-40.0, -5.0)
_RANGES: Final[dict[str, tuple[float, float]]] = {
    "target_lufs": TARGET_LUFS_RANGE,
    "ceiling_dbtp": (-12.0, 0.0),
    "compression_ratio": (1.0, 10.0),
    "compressor_threshold_lu": (-20.0, 20.0),
    "compressor_attack_ms": (0.1, 500.0),
    "compressor_release_ms": (5.0, 5_000.0),
    "stereo_width": (0.0, 2.0),
    "low_cut_hz": (10.0, 500.0),
    "tilt_db": (-6.0, 6.0),
    "limiter_lookahead_ms": (0.5, 20.0),
    "limiter_release_ms": (5.0, 2_000.0),
    "loudness_tolerance_lu": (0.05, 3.0),
    "max_passes": (1, 8),
    "reference_match_amount": (0.0, 1.0),
}

MASTER_PRESETS: Final[Mapping[str, MasterSettings]] = {
    "streaming": MasterSettings(target_lufs=-14.0, ceiling_dbtp=-1.0, low_cut_hz=25.0),
    "club": MasterSettings(
        target_lufs=-9.0, ceiling_dbtp=-1.0, compression_ratio=2.0, low_cut_hz=30.0
    ),
    "broadcast": MasterSettings(target_lufs=-23.0, ceiling_dbtp=-1.0, compression_ratio=1.2),
    "podcast": MasterSettings(
        target_lufs=-16.0, ceiling_dbtp=-1.0, compression_ratio=2.0, low_cut_hz=70.0
    ),
}


def master_settings(preset: str = "streaming", **overrides: Any) -> MasterSettings:
    """A preset's settings with some fields replaced; raises for unknown names."""
    base = MASTER_PRESETS.get(preset)
    if base is None:
        raise InvalidEffectChainError(
            f"unknown mastering preset {preset!r}; choose one of {', '.join(MASTER_PRESETS)}"
        )
    try:
        return replace(base, **overrides)
    except TypeError as exc:
        raise InvalidEffectChainError(f"bad master settings: {exc}") from None

"""The automatic mixer: stems in, a stereo mix with headroom for mastering out.

For each stem that plays (not muted; if any stem is soloed, only soloed ones):

1. pad to the longest stem (all stems count, so muting never changes the length);
2. the track's own effect chain, validated against the plugin catalog;
3. gain staging: measure its integrated loudness, bring it to
   :data:`~audio_services.mix_presets.PROCESSING_LUFS`, run the preset's insert
   chain for its role, measure again and set it to the role's level
   (``LEAD_LUFS + level_lu``); then the track's ``volume_db`` on top;
4. constant-power panning (mono: ``cos``/``sin`` of ``(pan + 1) * pi / 4``, -3 dB
   each side in the centre; stereo: the same law as a balance, unity in the
   centre), and a post-fader send into the preset's shared reverb.

Silent stems have no loudness and keep unity staging gain (a one-shot is
measured in its padded timeline, so it has one). Staging never boosts a quiet
recording by more than :data:`MAX_STAGING_BOOST_DB` before the insert chain, nor
makes up more than :data:`MAX_MAKEUP_DB` after it.
Loudness is measured before panning; under a constant-power law it is the
same after (BS.1770 sums channel powers), exactly for mono stems.

The mix bus is brought to the preset's ``mix_lufs`` (about -18 LUFS), glued by
the preset's bus chain, and trimmed if needed so its true peak stays at or
under :data:`MIX_CEILING_DBTP`: headroom for mastering, never clipping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from audio_services.errors import AudioLimitError, InvalidEffectChainError
from audio_services.metering import (
    AudioArray,
    amplitude_to_db,
    as_audio,
    db_to_amplitude,
    integrated_loudness_lufs,
)
from audio_services.mix_presets import (
    LEAD_LUFS,
    PROCESSING_LUFS,
    ROLES,
    MixPreset,
    RoleMix,
    get_mix_preset,
)
from audio_services.plugins import EffectSpec, build_pedalboard, validate_chain
from audio_services.true_peak import true_peak_linear

FloatArray = npt.NDArray[np.float32]

MAX_STAGING_BOOST_DB: Final = 30.0
MAX_MAKEUP_DB: Final = 24.0
MIX_CEILING_DBTP: Final = -1.0

_ROLE_KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("vocal", ("vocal", "vox", "voice", "sing", "choir", "rap", "adlib", "harmony", "speech",
               "dialog", "narrat", "host", "guest", "interview", "podcast", "mic")),
    ("bass", ("bass", "sub", "808")),
    ("drums", ("drum", "kick", "snare", "hat", "perc", "cymbal", "tom", "clap", "beat", "loop",
               "ride", "crash", "shaker", "conga", "bongo")),
    ("guitar", ("guitar", "gtr", "acoustic", "strat", "uke", "banjo", "mandolin")),
    ("keys", ("key", "piano", "rhodes", "organ", "wurli", "clav", "epiano")),
    ("synth", ("synth", "pad", "lead", "arp", "pluck", "saw", "string", "brass")),
    ("fx", ("fx", "sfx", "riser", "impact", "sweep", "noise", "ambience", "atmos", "foley")),
)  # fmt: skip


def role_for_track(kind: str | None, name: str) -> str:
    """A role hint from a track's ``kind`` and name (first keyword match wins).

    ``kind == "vocal"`` is always a vocal; an unmatched instrument is a synth;
    anything else unmatched is ``"other"``.
    """
    if kind == "vocal":
        return "vocal"
    lowered = name.lower()
    for role, keywords in _ROLE_KEYWORDS:
        if any(keyword in lowered for keyword in keywords):
            return role
    return "synth" if kind == "instrument" else "other"


@dataclass(frozen=True, slots=True)
class Stem:
    """One track's audio, ``(channels, frames)`` mono or stereo, and its mixer settings."""

    samples: AudioArray = field(repr=False)
    name: str
    role: str = "other"
    volume_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    effects: Sequence[Mapping[str, Any] | EffectSpec] = ()

    @classmethod
    def from_track(cls, track: Mapping[str, Any], samples: AudioArray) -> Stem:
        """A stem from a document track map (``name``, ``kind``, ``volume_db``, ...)."""
        name = str(track.get("name") or "")
        return cls(
            samples=samples,
            name=name,
            role=role_for_track(track.get("kind"), name),
            volume_db=_number(track, "volume_db", 0.0),
            pan=_number(track, "pan", 0.0),
            mute=bool(track.get("mute", False)),
            solo=bool(track.get("solo", False)),
            effects=list(track.get("effects") or ()),
        )


def _number(track: Mapping[str, Any], key: str, default: float) -> float:
    value = track.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEffectChainError(f"track {key!r} must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class StemReport:
    """What the mixer did to one stem.

    ``input_lufs`` is measured after the track's own effects; ``gain_db`` is the
    total static gain applied (staging plus ``volume_db``); ``level_lufs`` the
    stem's loudness going into the mix bus (before the bus gain).
    """

    name: str
    role: str
    played: bool
    input_lufs: float
    gain_db: float
    level_lufs: float

    def to_json(self) -> dict[str, Any]:
        return {
            key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in (
                ("name", self.name),
                ("role", self.role),
                ("played", self.played),
                ("input_lufs", self.input_lufs),
                ("gain_db", self.gain_db),
                ("level_lufs", self.level_lufs),
            )
        }


@dataclass(frozen=True, slots=True)
class MixResult:
    """The stereo mix and its measurements; ``-inf`` loudness means a silent mix."""

    samples: FloatArray = field(repr=False)
    sample_rate: int
    preset: str
    integrated_lufs: float
    true_peak_dbtp: float
    bus_gain_db: float
    stems: tuple[StemReport, ...]

    def to_json(self) -> dict[str, Any]:
        def finite(value: float) -> float | None:
            return value if math.isfinite(value) else None

        return {
            "sample_rate": self.sample_rate,
            "preset": self.preset,
            "integrated_lufs": finite(self.integrated_lufs),
            "true_peak_dbtp": finite(self.true_peak_dbtp),
            "bus_gain_db": self.bus_gain_db,
            "stems": [stem.to_json() for stem in self.stems],
        }


def mix(
    stems: Sequence[Stem],
    sample_rate: int,
    preset: str = "pop",
    tail_seconds: float = 0.0,
    bus_glue: bool = True,
) -> MixResult:
    """Mix ``stems`` with a genre preset (see :data:`~audio_services.mix_presets.MIX_PRESETS`).

    ``tail_seconds`` of silence are added after the longest stem for effect tails;
    ``bus_glue=False`` leaves out the preset's mix-bus compression.

    Raises:
        InvalidEffectChainError: unknown preset or role, a bad track effect chain,
            or a volume or pan out of range.
        AudioDecodeError: a stem holds NaN or inf.
        AudioLimitError: a stem has more than two channels, or no stems are given.
    """
    settings = get_mix_preset(preset)
    checked = [_check_stem(stem, index, sample_rate) for index, stem in enumerate(stems)]
    if not checked:
        raise AudioLimitError("nothing to mix: no stems given")
    num_frames = max(audio.shape[1] for audio, _ in checked) + round(
        max(0.0, tail_seconds) * sample_rate
    )
    any_solo = any(stem.solo for stem in stems)
    bus = np.zeros((2, num_frames), np.float32)
    sends = np.zeros((2, num_frames), np.float32)
    reports = []
    for stem, (audio, chain) in zip(stems, checked, strict=True):
        plays = not stem.mute and (stem.solo or not any_solo)
        if not plays:
            reports.append(StemReport(stem.name, stem.role, False, -math.inf, 0.0, -math.inf))
            continue
        padded = np.pad(audio, ((0, 0), (0, num_frames - audio.shape[1])))
        report = _mix_stem(stem, padded, chain, settings, sample_rate, bus, sends)
        reports.append(report)
    if sends.any():
        reverb = build_pedalboard([settings.reverb], sample_rate)
        bus += reverb(sends, sample_rate)
    bus_chain = settings.bus_chain if bus_glue else ()
    return _finish_bus(bus, sample_rate, settings, bus_chain, tuple(reports))


def _check_stem(stem: Stem, index: int, sample_rate: int) -> tuple[FloatArray, list[EffectSpec]]:
    where = f"stems[{index}] ({stem.name!r})"
    if stem.role not in ROLES:
        raise InvalidEffectChainError(
            f"{where}: unknown role {stem.role!r}; choose one of {', '.join(ROLES)}"
        )
    if not -1.0 <= stem.pan <= 1.0:  # also rejects NaN
        raise InvalidEffectChainError(f"{where}: pan {stem.pan} is outside -1..1")
    if not -96.0 <= stem.volume_db <= 24.0:
        raise InvalidEffectChainError(f"{where}: volume_db {stem.volume_db} is outside -96..24")
    try:
        chain = validate_chain(stem.effects)
    except InvalidEffectChainError as exc:
        raise InvalidEffectChainError(f"{where}: {exc}") from None
    audio = as_audio(stem.samples, sample_rate)
    if audio.shape[0] > 2:
        raise AudioLimitError(f"{where}: stems are mono or stereo, got {audio.shape[0]} channels")
    return audio, chain


def _mix_stem(
    stem: Stem,
    audio: FloatArray,
    chain: list[EffectSpec],
    settings: MixPreset,
    sample_rate: int,
    bus: FloatArray,
    sends: FloatArray,
) -> StemReport:
    """Process one stem and add it (and its reverb send) into ``bus`` and ``sends``."""
    if any(effect.enabled for effect in chain):
        audio = _run(build_pedalboard(chain, sample_rate), audio, sample_rate)
    input_lufs = integrated_loudness_lufs(audio, sample_rate)
    role = settings.role(stem.role)
    staging_db, level_lufs = 0.0, -math.inf
    if math.isfinite(input_lufs):
        audio, staging_db, level_lufs = _stage(audio, input_lufs, role, sample_rate)
    left, right = _pan_gains(stem.pan, audio.shape[0])
    scale = db_to_amplitude(stem.volume_db)
    panned = np.empty((2, audio.shape[1]), np.float32)
    np.multiply(audio[0], np.float32(scale * left), out=panned[0])
    np.multiply(audio[-1], np.float32(scale * right), out=panned[1])
    bus += panned
    if role.reverb_send_db is not None:
        sends += panned * np.float32(db_to_amplitude(role.reverb_send_db))
    return StemReport(
        name=stem.name,
        role=stem.role,
        played=True,
        input_lufs=input_lufs,
        gain_db=staging_db + stem.volume_db,
        level_lufs=level_lufs + stem.volume_db,
    )


def _stage(
    audio: FloatArray, input_lufs: float, role: RoleMix, sample_rate: int
) -> tuple[FloatArray, float, float]:
    """Gain-stage a stem to its role level through the role's insert chain.

    Returns the staged audio, the total static gain (dB) and its loudness (LUFS).
    """
    target_lufs = LEAD_LUFS + role.level_lu
    pre_db = min(PROCESSING_LUFS - input_lufs, MAX_STAGING_BOOST_DB)
    audio = audio * np.float32(db_to_amplitude(pre_db))
    level_lufs = input_lufs + pre_db
    if role.chain:
        audio = _run(build_pedalboard(role.chain, sample_rate), audio, sample_rate)
        processed_lufs = integrated_loudness_lufs(audio, sample_rate)
        if math.isfinite(processed_lufs):
            level_lufs = processed_lufs
    # Make-up for what the chain took, capped so a gate that closed stays quiet.
    post_db = min(target_lufs - level_lufs, MAX_MAKEUP_DB + target_lufs - PROCESSING_LUFS)
    audio *= np.float32(db_to_amplitude(post_db))
    return audio, pre_db + post_db, level_lufs + post_db


def _run(board: Any, audio: FloatArray, sample_rate: int) -> FloatArray:
    processed = board(audio, sample_rate)
    return np.ascontiguousarray(processed, dtype=np.float32)


def _pan_gains(pan: float, num_channels: int) -> tuple[float, float]:
    """Constant-power gains; stereo stems use the law as a balance (unity centre)."""
    angle = (pan + 1.0) * math.pi / 4.0
    # cos(pi / 2) is 6e-17, not 0: a hard pan must leave the other side silent.
    left = math.cos(angle) if pan < 1.0 else 0.0
    right = math.sin(angle) if pan > -1.0 else 0.0
    if num_channels == 2:
        left, right = left * math.sqrt(2.0), right * math.sqrt(2.0)
    return left, right


def _finish_bus(
    bus: FloatArray,
    sample_rate: int,
    settings: MixPreset,
    bus_chain: Sequence[EffectSpec],
    reports: tuple[StemReport, ...],
) -> MixResult:
    """Bring the bus to the preset loudness, glue it, and keep its true peak under the ceiling."""
    summed_lufs = integrated_loudness_lufs(bus, sample_rate)
    if not math.isfinite(summed_lufs):
        return MixResult(bus, sample_rate, settings.name, -math.inf, -math.inf, 0.0, reports)
    bus_gain_db = settings.mix_lufs - summed_lufs
    bus *= np.float32(db_to_amplitude(bus_gain_db))
    out = _run(build_pedalboard(bus_chain, sample_rate), bus, sample_rate) if bus_chain else bus
    true_peak = true_peak_linear(out, sample_rate)
    ceiling = db_to_amplitude(MIX_CEILING_DBTP)
    if true_peak > ceiling:
        trim = ceiling / true_peak * (1.0 - 1e-5)
        out *= np.float32(trim)
        true_peak *= trim
        bus_gain_db += amplitude_to_db(trim)
    return MixResult(
        samples=out,
        sample_rate=sample_rate,
        preset=settings.name,
        integrated_lufs=integrated_loudness_lufs(out, sample_rate),
        true_peak_dbtp=amplitude_to_db(true_peak),
        bus_gain_db=bus_gain_db,
        stems=reports,
    )

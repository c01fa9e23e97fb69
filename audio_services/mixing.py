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

Stems stream through in blocks, from arrays (:func:`mix`) or files
(:func:`mix_source`, writing the mix block by block into a sink), in the passes
of :mod:`audio_services.mix_passes`: memory is a few blocks per stem and the
summed bus (kept in a temporary file on long mixes), whatever the duration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.arrangement import automation_gains, lane_points
from jacameno.audio_services.errors import AudioLimitError, InvalidEffectChainError
from jacameno.audio_services.metering import AudioArray, as_audio
from jacameno.audio_services.mix_passes import (
    MAX_MAKEUP_DB,
    MAX_STAGING_BOOST_DB,
    StemPass,
    bus_pass,
    finish_bus,
)
from jacameno.audio_services.mix_presets import ROLES, get_mix_preset
from jacameno.audio_services.plugins import EffectSpec, validate_chain
from jacameno.audio_services.sinks import ArraySink, AudioSink
from jacameno.audio_services.sources import ArraySource, BlockSource, count_frames
from jacameno.audio_services.spill import DiskBudget

__all__ = [
    "MAX_MAKEUP_DB",
    "MAX_STAGING_BOOST_DB",
    "MIX_CEILING_DBTP",
    "MixReport",
    "MixResult",
    "Stem",
    "StemReport",
    "check_stem",
    "mix",
    "mix_source",
    "pan_gains",
    "role_for_track",
]

FloatArray = npt.NDArray[np.float32]

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
    """One track's audio, ``(channels, frames)`` mono or stereo, and its mixer settings.

    ``samples`` is an array, or a block source at the mix's sample rate.
    """

    samples: AudioArray | BlockSource = field(repr=False)
    name: str
    role: str = "other"
    volume_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    effects: Sequence[Mapping[str, Any] | EffectSpec] = ()
    #: Automation lanes, ``(time_s, value, curve)`` in time order: while a lane has
    #: points it sets the volume (dB) or the pan, after the effects.
    volume_automation: Sequence[tuple[float, float, str]] = ()
    pan_automation: Sequence[tuple[float, float, str]] = ()

    @classmethod
    def from_track(cls, track: Mapping[str, Any], samples: AudioArray | BlockSource) -> Stem:
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
            volume_automation=lane_points(track.get("volume_automation")),
            pan_automation=lane_points(track.get("pan_automation")),
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
class MixReport:
    """The mix's measurements; ``-inf`` loudness means a silent mix."""

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


@dataclass(frozen=True, slots=True)
class MixResult(MixReport):
    """The stereo mix and its :class:`MixReport` (``to_json`` leaves the samples out)."""

    samples: FloatArray = field(repr=False)


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
    get_mix_preset(preset)
    checked = [check_stem(stem, index, sample_rate) for index, stem in enumerate(stems)]
    if not checked:
        raise AudioLimitError("nothing to mix: no stems given")
    num_frames = _mix_frames([source for source, _ in checked], sample_rate, tail_seconds)
    output = np.zeros((2, num_frames), np.float32)
    report = _mix_checked(
        stems, checked, sample_rate, ArraySink(output), preset, num_frames, bus_glue
    )
    figures = {item.name: getattr(report, item.name) for item in fields(MixReport)}
    return MixResult(samples=output, **figures)


def mix_source(
    stems: Sequence[Stem],
    sample_rate: int,
    sink: AudioSink,
    preset: str = "pop",
    tail_seconds: float = 0.0,
    bus_glue: bool = True,
) -> MixReport:
    """:func:`mix` into a sink (stereo, ``sample_rate``), streaming stems of any length.

    Stems given as block sources must be at ``sample_rate`` (wrap files in a
    :class:`~audio_services.sources.ResampledSource`).
    """
    get_mix_preset(preset)
    checked = [check_stem(stem, index, sample_rate) for index, stem in enumerate(stems)]
    if not checked:
        raise AudioLimitError("nothing to mix: no stems given")
    num_frames = _mix_frames([source for source, _ in checked], sample_rate, tail_seconds)
    return _mix_checked(stems, checked, sample_rate, sink, preset, num_frames, bus_glue)


def _mix_frames(sources: Sequence[BlockSource], sample_rate: int, tail_seconds: float) -> int:
    """The mix's length: the longest stem (muted ones too) plus the tail."""
    return max(count_frames(source) for source in sources) + round(
        max(0.0, tail_seconds) * sample_rate
    )


def _mix_checked(
    stems: Sequence[Stem],
    checked: Sequence[tuple[BlockSource, list[EffectSpec]]],
    sample_rate: int,
    sink: AudioSink,
    preset: str,
    num_frames: int,
    bus_glue: bool,
) -> MixReport:
    settings = get_mix_preset(preset)
    any_solo = any(stem.solo for stem in stems)
    passes: list[StemPass | None] = []
    for stem, (source, chain) in zip(stems, checked, strict=True):
        plays = not stem.mute and (stem.solo or not any_solo)
        passes.append(
            StemPass(
                source,
                chain,
                settings.role(stem.role),
                volume_db=stem.volume_db,
                pan_gains=pan_gains(stem.pan, source.channels),
                num_frames=num_frames,
                gains=automation_gains(
                    stem.volume_automation,
                    stem.pan_automation,
                    volume_db=stem.volume_db,
                    pan=stem.pan,
                    channels=source.channels,
                    sample_rate=sample_rate,
                ),
            )
            if plays
            else None
        )
    playing = [stem_pass for stem_pass in passes if stem_pass is not None]
    budget = DiskBudget()
    try:
        for stem_pass in playing:
            stem_pass.measure_input(budget)
            stem_pass.stage(budget)
        bus, summed_lufs = bus_pass(playing, settings, sample_rate, num_frames)
    finally:
        for stem_pass in playing:
            stem_pass.close()
    with bus:
        bus_chain = settings.bus_chain if bus_glue else ()
        figures = finish_bus(
            bus, summed_lufs, settings, bus_chain, sample_rate, MIX_CEILING_DBTP, sink
        )
    reports = tuple(
        StemReport(stem.name, stem.role, False, -math.inf, 0.0, -math.inf)
        if stem_pass is None
        else StemReport(
            name=stem.name,
            role=stem.role,
            played=True,
            input_lufs=stem_pass.input_lufs,
            gain_db=stem_pass.staging_db + stem.volume_db,
            level_lufs=stem_pass.level_lufs + stem.volume_db,
        )
        for stem, stem_pass in zip(stems, passes, strict=True)
    )
    return MixReport(
        sample_rate=sample_rate,
        preset=settings.name,
        integrated_lufs=figures.integrated_lufs,
        true_peak_dbtp=figures.true_peak_dbtp,
        bus_gain_db=figures.bus_gain_db,
        stems=reports,
    )


def check_stem(stem: Stem, index: int, sample_rate: int) -> tuple[BlockSource, list[EffectSpec]]:
    """The stem's source and checked effect chain (raises as :func:`mix` says)."""
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
    if isinstance(stem.samples, np.ndarray):
        source: BlockSource = ArraySource(as_audio(stem.samples, sample_rate), sample_rate)
    else:
        source = stem.samples
        if source.sample_rate != sample_rate:
            raise ValueError(f"{where}: at {source.sample_rate} Hz, not the mix's {sample_rate} Hz")
    if source.channels > 2:
        raise AudioLimitError(f"{where}: stems are mono or stereo, got {source.channels} channels")
    return source, chain


def pan_gains(pan: float, num_channels: int) -> tuple[float, float]:
    """Constant-power gains; stereo stems use the law as a balance (unity centre)."""
    angle = (pan + 1.0) * math.pi / 4.0
    # cos(pi / 2) is 6e-17, not 0: a hard pan must leave the other side silent.
    left = math.cos(angle) if pan < 1.0 else 0.0
    right = math.sin(angle) if pan > -1.0 else 0.0
    if num_channels == 2:
        left, right = left * math.sqrt(2.0), right * math.sqrt(2.0)
    return left, right

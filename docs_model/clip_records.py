"""The arranged song's records: clips with fades and loops, automation points, and
MIDI clips with their notes (declared as the other records are; see `schema`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from .fields import FieldType
from .records import KEY, Rule, nested_map, record, spec

__all__ = [
    "AutomationCurve",
    "AutomationPointView",
    "ClipView",
    "FadeCurve",
    "MidiClipView",
    "NoteView",
    "clip_order",
    "fades_fit",
    "midi_clip_order",
]

_NUMBER, _STRING = FieldType.NUMBER, FieldType.STRING


class FadeCurve(StrEnum):
    """How a clip's fade moves between silence and full level."""

    LINEAR = "linear"
    #: sin/cos: constant power through a crossfade.
    EQUAL_POWER = "equal_power"
    #: Slow start, fast end (fade in): a square law.
    EXPONENTIAL = "exponential"


class AutomationCurve(StrEnum):
    """How an automation lane moves from one point to the next."""

    LINEAR = "linear"
    #: Keeps this point's value until the next point.
    HOLD = "hold"
    #: A cosine ease between the two values.
    SMOOTH = "smooth"


def clip_order(clip: ClipView) -> tuple[float, str]:
    return (clip.start_s, clip.id)


def fades_fit(clip: Mapping[str, object]) -> bool:
    """Whether a clip's stored fades fit in the time it plays (unreadable fields pass:
    their own checks report them)."""
    fade_in, fade_out = clip.get("fade_in_s", 0.0), clip.get("fade_out_s", 0.0)
    duration, loops = clip.get("duration_s"), clip.get("loop_count", 1.0)
    if not (
        isinstance(fade_in, float)
        and isinstance(fade_out, float)
        and isinstance(duration, float)
        and isinstance(loops, float)
    ):
        return True
    return fade_in + fade_out <= duration * loops + 1e-9


@record(
    rules=(
        Rule(
            "fade_out_s",
            "the fades must fit in the clip: fade_in_s + fade_out_s <= duration_s * loop_count",
            fades_fit,
        ),
    )
)
@dataclass(frozen=True)
class ClipView:
    """A placed region of an asset: plays `offset_s..offset_s+duration_s` of the asset
    from `start_s` in the song."""

    id: Annotated[str, KEY]
    asset_id: Annotated[str, spec(_STRING, required=True)]
    start_s: Annotated[float, spec(_NUMBER, required=True, minimum=0.0)]
    offset_s: Annotated[
        float, spec(_NUMBER, default=0.0, minimum=0.0, doc="where in the asset the clip starts")
    ]
    duration_s: Annotated[float, spec(_NUMBER, required=True, positive=True)]
    gain_db: Annotated[float, spec(_NUMBER, default=0.0)]
    fade_in_s: Annotated[float, spec(_NUMBER, default=0.0, minimum=0.0)] = 0.0
    fade_out_s: Annotated[float, spec(_NUMBER, default=0.0, minimum=0.0)] = 0.0
    fade_in_curve: Annotated[FadeCurve, spec(_STRING, default=FadeCurve.LINEAR, enum=FadeCurve)] = (
        FadeCurve.LINEAR
    )
    fade_out_curve: Annotated[
        FadeCurve, spec(_STRING, default=FadeCurve.LINEAR, enum=FadeCurve)
    ] = FadeCurve.LINEAR
    loop_count: Annotated[
        int,
        spec(
            _NUMBER,
            default=1.0,
            minimum=1.0,
            maximum=1000.0,
            integer=True,
            doc="times the region plays back to back",
        ),
    ] = 1

    @property
    def length_s(self) -> float:
        """Seconds the clip plays in the song (its region times its loops)."""
        return self.duration_s * self.loop_count

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@record()
@dataclass(frozen=True)
class AutomationPointView:
    """A breakpoint of an automation lane: `value` at `time_s`; `curve` shapes the way to
    the next point (volume lanes in dB, pan lanes from -1 to 1)."""

    time_s: Annotated[float, spec(_NUMBER, required=True, minimum=0.0)]
    value: Annotated[float, spec(_NUMBER, required=True)]
    curve: Annotated[
        AutomationCurve, spec(_STRING, default=AutomationCurve.LINEAR, enum=AutomationCurve)
    ] = AutomationCurve.LINEAR


@record()
@dataclass(frozen=True)
class NoteView:
    """A note of a MIDI clip: MIDI `pitch` (60 is middle C), `velocity`, and its start and
    length in beats from the clip's start (the song's tempo turns beats into seconds)."""

    id: Annotated[str, KEY]
    pitch: Annotated[int, spec(_NUMBER, required=True, minimum=0.0, maximum=127.0, integer=True)]
    velocity: Annotated[int, spec(_NUMBER, default=100.0, minimum=1.0, maximum=127.0, integer=True)]
    start_beats: Annotated[float, spec(_NUMBER, required=True, minimum=0.0)]
    length_beats: Annotated[float, spec(_NUMBER, required=True, positive=True)]


def _note_order(note: NoteView) -> tuple[float, int, str]:
    return (note.start_beats, note.pitch, note.id)


@record()
@dataclass(frozen=True)
class MidiClipView:
    """Notes placed at `start_s` in the song, heard for `duration_s` (notes past it are
    cut); notes are a Map keyed by id, so two people can edit one clip."""

    id: Annotated[str, KEY]
    start_s: Annotated[float, spec(_NUMBER, required=True, minimum=0.0)]
    duration_s: Annotated[float, spec(_NUMBER, required=True, positive=True)]
    notes: Annotated[tuple[NoteView, ...], nested_map(NoteView, order=_note_order)]

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def midi_clip_order(clip: MidiClipView) -> tuple[float, str]:
    return (clip.start_s, clip.id)

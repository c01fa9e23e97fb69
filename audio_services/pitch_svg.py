"""An SVG picture of a sung pitch curve against its target notes, for the web client.

Pure string building (no plotting library): time runs left to right, pitch
bottom to top with one grid line per semitone. Each judged note draws its target
as a bar whose height is the in-tune band (+-15 cents), coloured by how close
the note came; reference notes are outlined; the pitch curve is drawn over them,
broken where the voice is unvoiced; coaching remarks are marked along the top
with their message as a tooltip. Styling is by CSS classes (``jc-...``) so the
client can restyle it; a default stylesheet is embedded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from jacameno.audio_services.coaching_report import CoachingNote, SungNote
from jacameno.audio_services.notes import ReferenceNote, midi_to_name
from jacameno.audio_services.pitch import PitchTrack

__all__ = ["pitch_curve_svg"]

_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 40.0, 8.0, 16.0, 20.0
_IN_TUNE_CENTS = 15.0
_STYLE = (
    ".jc-grid{stroke:#e3e3e3;stroke-width:1}.jc-grid-c{stroke:#bdbdbd}"
    ".jc-label{font:10px sans-serif;fill:#666}"
    ".jc-ref{fill:none;stroke:#7a7a7a;stroke-dasharray:3 2}"
    ".jc-in_tune{fill:#4caf50;fill-opacity:.35}.jc-close{fill:#ffc107;fill-opacity:.4}"
    ".jc-noticeable{fill:#ff9800;fill-opacity:.45}.jc-off{fill:#f44336;fill-opacity:.45}"
    ".jc-curve{fill:none;stroke:#1565c0;stroke-width:1.5;stroke-linejoin:round}"
    ".jc-flag{stroke:#d32f2f;stroke-width:1;stroke-dasharray:2 2}.jc-flag-mark{fill:#d32f2f}"
)
_FLAG_KINDS = frozenset({"flat", "sharp", "early", "late", "missed"})


def pitch_curve_svg(
    track: PitchTrack,
    sung_notes: Sequence[SungNote],
    *,
    reference: Sequence[ReferenceNote] = (),
    coaching_notes: Sequence[CoachingNote] = (),
    width_px: int = 960,
    height_px: int = 320,
    start_s: float | None = None,
    end_s: float | None = None,
) -> str:
    """Render ``track`` against ``sung_notes`` and ``coaching_notes`` (a report's
    ``sung_notes`` and ``notes``) between ``start_s`` and ``end_s``, as an SVG string."""
    if width_px < 100 or height_px < 60:
        raise ValueError("the picture needs at least 100 x 60 pixels")
    t0 = 0.0 if start_s is None else start_s
    t1 = track.duration_s if end_s is None else end_s
    t1 = t1 if t1 > t0 else t0 + 1.0
    low, high = _pitch_range(track, sung_notes, reference, t0, t1)
    plot = _Plot(t0, t1, low, high, width_px, height_px)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width_px} {height_px}" '
        f'width="{width_px}" height="{height_px}" role="img" '
        f'aria-label="Sung pitch against target notes">',
        f"<style>{_STYLE}</style>",
        *_grid(plot),
        *_time_axis(plot),
        *(_reference_rect(plot, ref) for ref in reference if ref.end_s > t0 and ref.start_s < t1),
        *(_target_rect(plot, note) for note in sung_notes if _visible(note, t0, t1)),
        *_curve(plot, track),
        *(_flag(plot, remark) for remark in coaching_notes if _is_flag(remark, t0, t1)),
        "</svg>",
    ]
    return "\n".join(part for part in parts if part)


class _Plot:
    """Maps seconds and MIDI numbers to pixels."""

    def __init__(
        self, t0: float, t1: float, low: float, high: float, width: int, height: int
    ) -> None:
        self.t0, self.t1, self.low, self.high = t0, t1, low, high
        self.width, self.height = width, height
        self.left, self.right = _MARGIN_LEFT, width - _MARGIN_RIGHT
        self.top, self.bottom = _MARGIN_TOP, height - _MARGIN_BOTTOM

    def x(self, time_s: float) -> float:
        return self.left + (time_s - self.t0) / (self.t1 - self.t0) * (self.right - self.left)

    def y(self, midi: float) -> float:
        return self.bottom - (midi - self.low) / (self.high - self.low) * (self.bottom - self.top)


def _pitch_range(
    track: PitchTrack,
    notes: Sequence[SungNote],
    reference: Sequence[ReferenceNote],
    t0: float,
    t1: float,
) -> tuple[float, float]:
    shown = (track.times_s >= t0) & (track.times_s <= t1) & track.voiced
    values = list(track.midi[shown])
    values += [n.target_midi for n in notes if n.target_midi is not None and _visible(n, t0, t1)]
    values += [ref.midi for ref in reference if ref.end_s > t0 and ref.start_s < t1]
    if not values:
        return 57.0, 69.0
    low, high = math.floor(min(values)) - 1.0, math.ceil(max(values)) + 1.0
    if high - low < 12.0:
        middle = (low + high) / 2
        low, high = math.floor(middle - 6.0), math.floor(middle - 6.0) + 12.0
    return low, high


def _grid(plot: _Plot) -> list[str]:
    span = plot.high - plot.low
    lines = []
    for midi in range(int(plot.low), int(plot.high) + 1):
        y = plot.y(midi)
        is_c = midi % 12 == 0
        lines.append(
            f'<line class="jc-grid{" jc-grid-c" if is_c else ""}" x1="{plot.left:.1f}" '
            f'y1="{y:.1f}" x2="{plot.right:.1f}" y2="{y:.1f}"/>'
        )
        natural = midi % 12 in (0, 2, 4, 5, 7, 9, 11)
        if is_c or (span <= 24 and natural):
            lines.append(
                f'<text class="jc-label" x="{plot.left - 4:.1f}" y="{y + 3:.1f}" '
                f'text-anchor="end">{midi_to_name(midi)}</text>'
            )
    return lines


def _time_axis(plot: _Plot) -> list[str]:
    span = plot.t1 - plot.t0
    step = next((s for s in (0.5, 1, 2, 5, 10, 15, 30, 60, 120) if span / s <= 12), 300)
    labels = []
    for tick in np.arange(math.ceil(plot.t0 / step) * step, plot.t1 + 1e-9, step):
        minutes, seconds = divmod(float(tick), 60.0)
        text = f"{int(minutes)}:{seconds:04.1f}" if step < 1 else f"{int(minutes)}:{seconds:02.0f}"
        labels.append(
            f'<text class="jc-label" x="{plot.x(float(tick)):.1f}" y="{plot.height - 6:.1f}" '
            f'text-anchor="middle">{text}</text>'
        )
    return labels


def _visible(note: SungNote, t0: float, t1: float) -> bool:
    return note.end_s > t0 and note.start_s < t1


def _target_rect(plot: _Plot, note: SungNote) -> str:
    if note.target_midi is None or note.band is None:
        return ""
    band = _IN_TUNE_CENTS / 100.0
    x0 = plot.x(max(note.start_s, plot.t0))
    x1 = plot.x(min(note.end_s, plot.t1))
    y_top, y_bottom = plot.y(note.target_midi + band), plot.y(note.target_midi - band)
    title = f"{midi_to_name(note.target_midi)}: {note.cents:+.0f} cents"
    return (
        f'<rect class="jc-{note.band}" x="{x0:.1f}" y="{y_top:.1f}" width="{x1 - x0:.1f}" '
        f'height="{max(y_bottom - y_top, 1.0):.1f}"><title>{escape(title)}</title></rect>'
    )


def _reference_rect(plot: _Plot, ref: ReferenceNote) -> str:
    x0, x1 = plot.x(max(ref.start_s, plot.t0)), plot.x(min(ref.end_s, plot.t1))
    y = plot.y(ref.midi + 0.5)
    height = plot.y(ref.midi - 0.5) - y
    return (
        f'<rect class="jc-ref" x="{x0:.1f}" y="{y:.1f}" width="{x1 - x0:.1f}" '
        f'height="{height:.1f}"/>'
    )


def _curve(plot: _Plot, track: PitchTrack) -> list[str]:
    shown = np.flatnonzero((track.times_s >= plot.t0) & (track.times_s <= plot.t1))
    if len(shown) == 0:
        return []
    # At most about two points per pixel: more only bloats the document.
    stride = max(int(len(shown) / (2 * (plot.right - plot.left))), 1)
    frames = shown[::stride]
    midi = track.midi[frames]
    commands: list[str] = []
    pen_down = False
    for frame, value in zip(frames, midi, strict=True):
        if not math.isfinite(value):
            pen_down = False
            continue
        x, y = plot.x(float(track.times_s[frame])), plot.y(float(value))
        commands.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    if not commands:
        return []
    return [f'<path class="jc-curve" d="{" ".join(commands)}"/>']


def _is_flag(remark: CoachingNote, t0: float, t1: float) -> bool:
    return remark.kind in _FLAG_KINDS and t0 <= remark.start_s <= t1


def _flag(plot: _Plot, remark: CoachingNote) -> str:
    x = plot.x(remark.start_s)
    top = plot.top
    mark = f"M{x - 4:.1f} {top - 10:.1f}L{x + 4:.1f} {top - 10:.1f}L{x:.1f} {top - 3:.1f}Z"
    return (
        f"<g data-kind={quoteattr(remark.kind)}><title>{escape(remark.message)}</title>"
        f'<line class="jc-flag" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{plot.bottom:.1f}"/>'
        f'<path class="jc-flag-mark" d="{mark}"/></g>'
    )

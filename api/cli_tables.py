"""The tables the audio commands print on stdout (without ``--json``).

Each takes the dict of figures its command returns (the same one ``--json``
prints) and lays it out with rich; a missing figure shows as ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

__all__ = ["analysis_table", "coach_table", "master_table", "mix_table"]


def _show(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:g} {unit}".strip() if isinstance(value, float | int) else str(value)


def _table(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def analysis_table(figures: dict[str, Any]) -> Table:
    """``jacameno analyze``: one figure per row."""
    return _table(
        figures["file"],
        [
            ("duration", _show(figures["duration_s"], "s")),
            ("format", f"{figures['sample_rate']} Hz, {figures['channels']} ch"),
            ("loudness", _show(figures["integrated_lufs"], "LUFS")),
            ("loudness range", _show(figures["loudness_range_lu"], "LU")),
            ("true peak", _show(figures["true_peak_dbtp"], "dBTP")),
            ("clipping", f"{figures['clip_events']} events"),
            ("tempo", _show(figures["tempo_bpm"], "BPM")),
            ("key", _show(figures["key"])),
        ],
    )


def mix_table(figures: dict[str, Any]) -> Table:
    """``jacameno mix``: the mix's loudness in the title, one row per stem."""
    table = Table(
        title=f"{figures['output_file']} ({figures['preset']}): "
        f"{_show(figures['integrated_lufs'], 'LUFS')}, {_show(figures['true_peak_dbtp'], 'dBTP')}",
        title_justify="left",
    )
    for column in ("stem", "role", "input LUFS", "gain dB", "level LUFS"):
        table.add_column(column, justify="left" if column in ("stem", "role") else "right")
    for stem in figures["stems"]:
        table.add_row(
            stem["name"],
            stem["role"],
            *(_show(stem[key]) for key in ("input_lufs", "gain_db", "level_lufs")),
        )
    return table


def master_table(figures: dict[str, Any]) -> Table:
    """``jacameno master``: input against output (as written), with the target in the caption."""
    before, after = figures["input"], figures["output"]
    table = Table(
        title=f"{figures['output_file']} ({figures['preset']})",
        caption=f"target {figures['target_lufs']:g} LUFS, ceiling {figures['ceiling_dbtp']:g} dBTP",
        title_justify="left",
        caption_justify="left",
    )
    for column in ("", "input", "output"):
        table.add_column(column, justify="left" if not column else "right")
    for label, key, unit in (
        ("loudness", "integrated_lufs", "LUFS"),
        ("true peak", "true_peak_dbtp", "dBTP"),
        ("loudness range", "loudness_range_lu", "LU"),
    ):
        table.add_row(label, _show(before[key], unit), _show(after[key], unit))
    table.add_row("limiter", "", _show(figures["limiter_reduction_db"], "dB"))
    return table


def coach_table(figures: dict[str, Any]) -> Table:
    """``jacameno coach``: the take's summary in the title, one row per remark."""
    summary = figures["summary"]
    title = f"{figures['file']}: no sung notes found"
    if summary["note_count"]:
        title = f"{figures['file']}: {summary['note_count']} notes"
        for figure, label in (("percent_in_tune", "in tune"), ("percent_on_time", "on time")):
            if summary[figure] is not None:
                title += f", {summary[figure]:g}% {label}"
    table = Table(title=title, title_justify="left")
    for column in ("time", "kind", "off by", "remark"):
        table.add_column(column, justify="right" if column in ("time", "off by") else "left")
    for note in figures["notes"]:
        off_by = (
            f"{note['cents']:+g} c" if note["cents"] is not None
            else f"{note['ms']:+g} ms" if note["ms"] is not None
            else ""
        )  # fmt: skip
        table.add_row(
            f"{note['start_s']:.2f}-{note['end_s']:.2f} s", note["kind"], off_by, note["message"]
        )
    return table

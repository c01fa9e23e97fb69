"""A master written to a file, then verified on the file as written.

:func:`~audio_services.mastering.master_source` holds the ceiling on the
rendered float signal, but a file stores that signal quantised (24-bit PCM,
say): rounding can lift a true peak that sits exactly at the ceiling, and the
figures a listener's meter reads are those of the file. So
:func:`master_to_file` reads the written file back and measures it (ITU-R
BS.1770-4 integrated loudness and 4x true peak, libebur128). A true peak over
the ceiling is trimmed away with a static gain applied to the file, block by
block (true peaks scale exactly with a static gain, loudness moves by the same
few hundredths of a dB), and the file is measured again; the report then
carries the figures measured on the file, and the trim.

Every master written to a file goes through here: the ``jacameno master``
command and the mastering job alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from jacameno.audio_services.errors import AudioProcessingError
from jacameno.audio_services.mastering import MasterReport, master_source
from jacameno.audio_services.mastering_settings import MasterSettings
from jacameno.audio_services.metering import LoudnessReport, db_to_amplitude, measure_blocks
from jacameno.audio_services.sinks import FileSink
from jacameno.audio_services.sources import BlockSource, FileSource

__all__ = ["MAX_FILE_TRIMS", "TRIM_MARGIN_DB", "master_to_file", "measure_file"]

#: Trims of a written file that still peaks over the ceiling, before giving up.
MAX_FILE_TRIMS = 3
#: Extra trim below the measured overshoot (dB), so re-quantising cannot land on it again.
TRIM_MARGIN_DB = 0.01


def master_to_file(
    source: BlockSource,
    sink: FileSink,
    settings: MasterSettings | None = None,
    *,
    reference: BlockSource | None = None,
    on_step: Callable[[str], None] | None = None,
) -> MasterReport:
    """Master ``source`` into the file ``sink`` writes, and verify the file.

    Takes what :func:`~audio_services.mastering.master_source` takes. The
    returned report's ``output`` is measured on the file as written (after any
    trim), and its ``trim_db`` includes the trims applied to the file.
    ``on_step`` is told what is being done, for a progress display.

    Raises:
        AudioProcessingError: the written file still peaks over the ceiling after
            :data:`MAX_FILE_TRIMS` trims, or misses the target loudness by more
            than ``settings.loudness_tolerance_lu``; and whatever
            :func:`~audio_services.mastering.master_source` raises.
    """
    settings = settings or MasterSettings()
    step = on_step or _quiet
    report = master_source(source, sink, settings, reference=reference)
    path = Path(sink.path)
    file_trim_db = 0.0
    for trims in range(MAX_FILE_TRIMS + 1):
        step("verifying loudness and true peak of the file")
        written = measure_file(path)
        excess_db = written.true_peak_dbtp - settings.ceiling_dbtp
        if excess_db <= 0.0:
            break
        if trims == MAX_FILE_TRIMS:
            raise AudioProcessingError(
                f"the written master peaks at {written.true_peak_dbtp:.2f} dBTP, over its "
                f"{settings.ceiling_dbtp:.1f} dBTP ceiling after {trims} trims; "
                "choose a lower ceiling"
            )
        trim_db = excess_db + TRIM_MARGIN_DB
        step(f"trimming {sink.format} {path} by {trim_db:.2f} dB")
        file_trim_db -= trim_db
        _rescale(sink, db_to_amplitude(-trim_db))
    miss_lu = abs(written.integrated_lufs - report.target_lufs)
    if not miss_lu <= settings.loudness_tolerance_lu:  # also refuses NaN
        raise AudioProcessingError(
            f"the written master measures {written.integrated_lufs:.2f} LUFS, "
            f"{miss_lu:.2f} LU off its {report.target_lufs:.1f} LUFS target"
        )
    return replace(report, output=written, trim_db=report.trim_db + file_trim_db)


def measure_file(path: str | Path) -> LoudnessReport:
    """Loudness and peaks of an audio file as stored, read block by block."""
    written = FileSource(path, max_duration_s=math.inf)
    return measure_blocks(written.blocks(), written.sample_rate, written.channels)


def _rescale(sink: FileSink, gain: float) -> None:
    """Scale the file ``sink`` wrote by ``gain``, block by block, through a sibling file."""
    path = Path(sink.path)
    scaled = path.with_name(f".{path.name}.trim{path.suffix}")
    copy = FileSink(
        scaled, sink.sample_rate, sink.channels, format=sink.format, subtype=sink.subtype
    )
    copy.begin()
    try:
        for block in FileSource(path, max_duration_s=math.inf).blocks():
            copy.write(block * np.float32(gain))
    finally:
        copy.end()
    scaled.replace(path)


def _quiet(description: str) -> None:
    """No progress display."""

"""Stems: each track rendered on its own, as arranged, for another DAW.

A stem is its track exactly as it plays in the song before the mix bus: its clips
where the timeline puts them (:mod:`.arrangement`), through its own effects, at
its volume and pan (or their automation), muted tracks silent and solo honoured as
the mixer does. Every stem starts at the song's 0 s (bar 1) and lasts the whole song,
so they line up sample for sample when dropped into any DAW. The mixer's automatic
level staging, role processing and bus are left out: those belong to our mix.

Rendering streams block by block, one track at a time, into WAV (24-bit) or FLAC
(24-bit) files that are then stored in a zip.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from jacameno.audio_services.arrangement import automation_gains, to_stereo
from jacameno.audio_services.board_stream import BoardStream, fixed_blocks
from jacameno.audio_services.metering import db_to_amplitude
from jacameno.audio_services.mixing import Stem, check_stem, pan_gains
from jacameno.audio_services.plugins import build_pedalboard
from jacameno.audio_services.sinks import FileSink
from jacameno.audio_services.sources import BLOCK_FRAMES, FloatArray, count_frames

__all__ = ["StemFormat", "export_stems", "render_stem"]

StemFormat = Literal["wav", "flac"]
_UNSAFE = re.compile(r"[^\w .,()+-]+")


def render_stem(
    stem: Stem, index: int, sample_rate: int, num_frames: int, *, silent: bool = False
) -> Iterator[FloatArray]:
    """Stereo blocks of ``stem`` through its effects at its volume and pan, ``num_frames``
    long; silence throughout when ``silent`` (muted, or not soloed)."""
    source, chain = check_stem(stem, index, sample_rate)
    if silent:
        for first in range(0, num_frames, BLOCK_FRAMES):
            yield np.zeros((2, min(BLOCK_FRAMES, num_frames - first)), np.float32)
        return
    channels = source.channels
    dry = fixed_blocks(source.blocks(), channels, num_frames, BLOCK_FRAMES)
    blocks = dry
    if chain:
        stream = BoardStream(build_pedalboard(chain, sample_rate), sample_rate, channels)

        def processed() -> Iterator[FloatArray]:
            for block in dry:
                yield stream.push(block)
            yield stream.finish()

        blocks = fixed_blocks(processed(), channels, num_frames, BLOCK_FRAMES)
    gains = automation_gains(
        stem.volume_automation,
        stem.pan_automation,
        volume_db=stem.volume_db,
        pan=stem.pan,
        channels=channels,
        sample_rate=sample_rate,
    )
    scale = db_to_amplitude(stem.volume_db)
    left, right = (scale * gain for gain in pan_gains(stem.pan, channels))
    yield from to_stereo(blocks, left, right, gains)


def export_stems(
    stems: Sequence[Stem],
    sample_rate: int,
    folder: Path,
    *,
    audio_format: StemFormat = "flac",
) -> tuple[Path, list[str], float]:
    """Every stem as a 24-bit file in ``folder/stems.zip``, all the song's length.

    Returns the zip, the file names in it (``01 Drums.flac``, ...) and the song's
    duration in seconds (the longest stem, muted ones too).
    """
    sources = [check_stem(stem, index, sample_rate)[0] for index, stem in enumerate(stems)]
    num_frames = max((count_frames(source) for source in sources), default=0)
    any_solo = any(stem.solo for stem in stems)
    archive = folder / "stems.zip"
    names: list[str] = []
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zipped:
        for index, stem in enumerate(stems):
            name = f"{index + 1:02d} {_safe(stem.name) or 'Track'}.{audio_format}"
            path = folder / f"stem-{index}.{audio_format}"
            sink = FileSink(
                path,
                sample_rate,
                2,
                format="FLAC" if audio_format == "flac" else "WAV",
                subtype="PCM_24",
            )
            silent = stem.mute or (any_solo and not stem.solo)
            sink.begin()
            try:
                for block in render_stem(stem, index, sample_rate, num_frames, silent=silent):
                    sink.write(block)
            finally:
                sink.end()
            zipped.write(path, name)
            path.unlink()
            names.append(name)
    return archive, names, num_frames / sample_rate if sample_rate else 0.0


def _safe(name: str) -> str:
    """A track name fit for a file name in any DAW's file browser."""
    return _UNSAFE.sub("_", name).strip(" ._")[:80]

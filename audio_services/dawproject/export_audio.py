"""The audio a DAWproject export stores: each asset checked, probed and named once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from jacameno.audio_services.audio_io import AudioInfo, probe
from jacameno.audio_services.errors import AudioDecodeError

from .errors import DawProjectError
from .model import AUDIO_FOLDER

__all__ = ["ExportedAudio", "needed_assets"]

#: libsndfile's format names an export stores, with their file suffix.
_SUFFIXES = {"WAV": ".wav", "WAVEX": ".wav", "RF64": ".wav", "FLAC": ".flac"}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def needed_assets(tracks: Sequence[object]) -> set[str]:
    """The assets the tracks play: their clips', or a clipless track's own."""
    needed: set[str] = set()
    for track in tracks:
        if not isinstance(track, Mapping):
            continue
        clips = track.get("clips") or []
        needed.update(c["asset_id"] for c in clips if isinstance(c, Mapping))
        if not clips and track.get("asset_id"):
            needed.add(track["asset_id"])
    return needed


class ExportedAudio:
    """The assets an export stores, checked up front (all given, WAV or FLAC), probed
    once and named once in the archive."""

    def __init__(self, audio: Mapping[str, Path], needed: set[str]) -> None:
        missing = sorted(needed - set(audio))
        if missing:
            raise DawProjectError(
                f"no audio file given for asset(s) {', '.join(missing)}: pass every asset a "
                "clip plays (and each clipless track's asset) in `audio`"
            )
        self._infos: dict[str, AudioInfo] = {}
        self._names: dict[str, str] = {}
        self._paths = {asset_id: Path(audio[asset_id]) for asset_id in sorted(needed)}
        for asset_id, path in self._paths.items():
            try:
                info = probe(path)
            except AudioDecodeError as exc:
                raise DawProjectError(f"asset {asset_id!r} ({path}): {exc}") from exc
            if info.format not in _SUFFIXES:
                raise DawProjectError(
                    f"asset {asset_id!r} is {info.format}; a DAWproject export stores WAV or "
                    "FLAC: convert it first"
                )
            self._infos[asset_id] = info
            self._names[asset_id] = self._unique_name(asset_id, _SUFFIXES[info.format])

    def _unique_name(self, asset_id: str, suffix: str) -> str:
        stem = _UNSAFE_NAME.sub("_", asset_id).strip("._") or "asset"
        name, number = f"{AUDIO_FOLDER}/{stem}{suffix}", 1
        while name in self._names.values():
            number += 1
            name = f"{AUDIO_FOLDER}/{stem}-{number}{suffix}"
        return name

    def info(self, asset_id: str) -> AudioInfo:
        return self._infos[asset_id]

    def path_in_archive(self, asset_id: str) -> str:
        return self._names[asset_id]

    def stored(self) -> list[tuple[str, Path]]:
        """``(path in the archive, local file)`` of every asset, each once."""
        return [(self._names[asset_id], path) for asset_id, path in self._paths.items()]

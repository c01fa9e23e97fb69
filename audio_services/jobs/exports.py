"""``export`` jobs: the project for other tools, as a zip asset.

- ``stems``: every track rendered on its own as arranged (:mod:`~audio_services.stems`),
  24-bit FLAC or WAV (``params.audio_format``), all from 0 s and the song's length.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jacameno.audio_services.errors import AudioLimitError
from jacameno.audio_services.jobs.arranged_inputs import stems_of
from jacameno.audio_services.stems import export_stems

__all__ = ["EXPORT_FORMATS", "compute_export"]

#: What an export job can write.
EXPORT_FORMATS = ("stems",)
AUDIO_FORMATS = ("flac", "wav")


def compute_export(
    params: dict[str, Any],
    inputs: dict[str, Any],
    files: dict[str, str],
    folder: Path,
    max_duration_s: float,
) -> dict[str, Any]:
    """Run an export job (see the module doc): a zip output and what is in it."""
    export_format = params.get("format", "stems")
    if export_format == "stems":
        audio_format = params.get("audio_format", "flac")
        if audio_format not in AUDIO_FORMATS:
            raise AudioLimitError(f"stems are written as {' or '.join(AUDIO_FORMATS)}")
        stems, sample_rate = stems_of(inputs["stems"], files, max_duration_s)
        archive, names, duration_s = export_stems(
            stems, sample_rate, folder, audio_format=audio_format
        )
        result = {
            "format": "stems",
            "audio_format": audio_format,
            "files": names,
            "duration_s": duration_s,
            "sample_rate": sample_rate,
        }
        return _zipped(result, archive, "stems.zip")
    raise AudioLimitError(
        f"unknown export format {export_format!r}: choose one of {', '.join(EXPORT_FORMATS)}"
    )


def _zipped(result: dict[str, Any], archive: Path, filename: str) -> dict[str, Any]:
    return {
        "result": result,
        "outputs": [
            {
                "role": "export",
                "path": str(archive),
                "kind": "export",
                "filename": filename,
                "content_type": "application/zip",
                "audio": None,
            }
        ],
        "sidecars": [],
    }

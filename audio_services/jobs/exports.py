"""``export`` jobs: the project for other tools, as a zip asset.

- ``stems``: every track rendered on its own as arranged (:mod:`~audio_services.stems`),
  24-bit FLAC or WAV (``params.audio_format``), all from 0 s and the song's length.
- ``midi``: the MIDI tracks as one Standard MIDI File (:mod:`~audio_services.midi_files`).
- ``dawproject``: the open interchange format for other DAWs (:mod:`~audio_services.dawproject`):
  the audio tracks with their clips, fades, loops, mixer settings and automation, the
  tempo and metre, and the audio itself. MIDI tracks are not in it yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jacameno.audio_services.dawproject import export_dawproject
from jacameno.audio_services.errors import AudioLimitError
from jacameno.audio_services.jobs.arranged_inputs import stems_of
from jacameno.audio_services.midi_files import write_midi_file
from jacameno.audio_services.stems import export_stems

__all__ = ["EXPORT_FORMATS", "compute_export"]

#: What an export job can write.
EXPORT_FORMATS = ("stems", "midi", "dawproject")
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
        return _output(result, archive, "stems.zip", "application/zip")
    if export_format == "dawproject":
        path = folder / "project.dawproject"
        audio = {asset_id: Path(files[asset_id]) for asset_id in inputs["asset_ids"]}
        export_dawproject(inputs["document"], audio, path)
        tracks = inputs["document"].get("tracks") or []
        result = {"format": "dawproject", "tracks": len(tracks), "audio_files": len(audio)}
        return _output(result, path, "project.dawproject", "application/zip")
    if export_format == "midi":
        path = folder / "song.mid"
        written = write_midi_file(
            inputs["midi_tracks"],
            bpm=float(inputs["bpm"]),
            time_signature=str(inputs["time_signature"]),
            path=path,
        )
        result = {"format": "midi", "tracks": len(inputs["midi_tracks"]), "notes": written}
        return _output(result, path, "song.mid", "audio/midi")
    raise AudioLimitError(
        f"unknown export format {export_format!r}: choose one of {', '.join(EXPORT_FORMATS)}"
    )


def _output(result: dict[str, Any], path: Path, filename: str, content_type: str) -> dict[str, Any]:
    return {
        "result": result,
        "outputs": [
            {
                "role": "export",
                "path": str(path),
                "kind": "export",
                "filename": filename,
                "content_type": content_type,
                "audio": None,
            }
        ],
        "sidecars": [],
    }

"""Request and response bodies of the audio API: the plugin catalog, assets, jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from jacameno.api.schemas import Body, Out, Query

# ---------------------------------------------------------------------------- plugins


class PluginQuery(Query):
    category: str | None = Field(default=None, max_length=32)


class PluginParamOut(Out):
    name: str
    unit: str
    min: float
    max: float
    default: float
    description: str = ""


class PluginOut(Out):
    id: str
    name: str
    category: str
    description: str = ""
    params: list[PluginParamOut]


class PluginList(Out):
    items: list[PluginOut]


# ---------------------------------------------------------------------------- audio: assets, jobs


class AssetOut(Out):
    id: str
    project_id: str
    #: ``upload``, ``render`` (a mix), ``master``, ``pitch_curve`` (an SVG picture), ...
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    duration_s: float | None
    sample_rate: int | None
    channels: int | None
    created_at: datetime
    #: Presigned link to the bytes (valid ``JACAMENO_PRESIGN_EXPIRY_S`` seconds).
    download_url: str
    #: Figures from the analysis job (loudness, true peak, tempo, key...), once it ran.
    analysis: dict[str, Any] | None = None


class TrackUploadOut(Out):
    asset: AssetOut
    #: The new track's id in the project document (and the ``tracks`` table).
    track_id: str
    #: The analysis job queued for the upload.
    job_id: str


class WaveformQuery(Query):
    #: Number of min/max points for the whole asset.
    points: int = Field(default=1000, ge=1, le=65_536)
    #: One channel (0-based) instead of every channel.
    channel: int | None = Field(default=None, ge=0, le=63)
    #: Min/max over all channels as one row.
    mix: bool = False


class WaveformOut(Out):
    asset_id: str
    sample_rate: int
    frames: int
    duration_s: float
    samples_per_point: float
    points: int
    #: ``[channel][point]`` minima and maxima, -1..1.
    min: list[list[float]]
    max: list[list[float]]


class JobOut(Out):
    id: str
    project_id: str
    kind: str
    status: str
    progress: float
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    #: True when an identical queued or running job was returned instead of a new one.
    reused: bool = False


class MixingRequest(Body):
    project_id: str = Field(min_length=1, max_length=64)
    #: Genre preset (pop, hip_hop, rock, electronic, acoustic, podcast...); default: the
    #: one this user chose for similar projects (AI memory), else the document's
    #: ``mix.preset`` or pop.
    preset: str | None = Field(default=None, min_length=1, max_length=32)


class ExportRequest(Body):
    """What to export: ``stems`` (every track rendered as arranged, in a zip), ``midi``
    (the MIDI tracks as one Standard MIDI File) or ``dawproject`` (the arrangement and
    its audio for another DAW)."""

    format: Literal["stems", "midi", "dawproject"] = "stems"
    #: The stems' files: 24-bit FLAC or WAV.
    audio_format: Literal["flac", "wav"] = "flac"


class MasteringRequest(Body):
    project_id: str = Field(min_length=1, max_length=64)
    #: Preset (streaming, club, broadcast, ...); default: the one this user chose for
    #: similar projects (AI memory), else streaming.
    preset: str | None = Field(default=None, min_length=1, max_length=32)
    target_lufs: float | None = Field(default=None, ge=-30.0, le=-5.0)
    ceiling_dbtp: float | None = Field(default=None, ge=-6.0, le=0.0)
    #: Master this asset instead of the latest mix render.
    asset_id: str | None = Field(default=None, min_length=1, max_length=64)
    #: Match the spectrum and loudness of this reference asset.
    reference_asset_id: str | None = Field(default=None, min_length=1, max_length=64)


class CoachingRequest(Body):
    project_id: str = Field(min_length=1, max_length=64)
    #: The vocal track; default: the first vocal track with audio.
    track_id: str | None = Field(default=None, min_length=1, max_length=64)
    #: "A minor", "F# major"; default: the document's ``meta.key``.
    key: str | None = Field(default=None, min_length=1, max_length=32)
    #: A guide recording whose notes are the targets.
    reference_asset_id: str | None = Field(default=None, min_length=1, max_length=64)

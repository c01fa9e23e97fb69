"""Track upload: ``POST /api/v1/tracks/upload`` (multipart: project_id, name, file[, kind]).

The body is parsed by Starlette's multipart parser into a spooled temporary file
(at most 1 MiB in memory, the rest on disk; the whole body is capped by
``JACAMENO_MAX_UPLOAD_BYTES``). The file is accepted by its content, never its
name: libsndfile must recognise it as WAV, FLAC, OGG or MP3 (else 415), its
header must be within the duration limit (413) and the channel and sample-rate
limits (422). It is then streamed to the object store, recorded as an asset and
a track, added to the project document, and its analysis queued as a job.

Fair use, checked before the body is read: uploads per caller are rate limited
(``JACAMENO_RATE_LIMIT_UPLOAD_USER``, 429); a caller with
``JACAMENO_JOB_MAX_ACTIVE_PER_USER`` jobs queued or running is refused (429); and
a body whose Content-Length cannot fit in the uploader's storage quota
(``JACAMENO_STORAGE_QUOTA_MB_PER_USER``) is refused with 413. The quota is
checked again on the stored size: an upload that took its owner past it is
deleted and answered 413.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import anyio
from sqlalchemy import delete
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.analytics import EventKind, record_event
from jacameno.api.asset_store import asset_key
from jacameno.api.audio_schemas import TrackUploadOut
from jacameno.api.auth.actors import owner_of
from jacameno.api.auth.permissions import require_project_role
from jacameno.api.db.models import Asset, ProjectRole, Track, new_id
from jacameno.api.errors import (
    PayloadTooLargeError,
    RateLimitedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.quota import StorageQuota
from jacameno.api.routes.assets import asset_out
from jacameno.api.services import require_principal, services_of
from jacameno.audio_services.audio_io import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioInfo, probe
from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.jobs.coordinator import CAP_RETRY_AFTER_S
from jacameno.docs_model.schema import TrackKind

#: libsndfile formats accepted for upload, with the content type they are stored under.
ACCEPTED_FORMATS = {
    "WAV": "audio/wav",
    "WAVEX": "audio/wav",
    "RF64": "audio/wav",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",
    "MP3": "audio/mpeg",
}
MAX_CHANNELS = 6
CHUNK_BYTES = 256 * 1024
MAX_NAME_CHARS = 200
#: Bytes of a multipart body that are not the file (boundaries, headers, form fields):
#: a Content-Length this much over the quota left may still hold a file that fits.
FORM_OVERHEAD_BYTES = 16 * 1024


def check_audio(file: BinaryIO, max_duration_s: float) -> AudioInfo:
    """Probe an uploaded file by content; raise the HTTP error that fits what is wrong."""
    file.seek(0)
    try:
        info = probe(file)
    except AudioError as exc:
        raise UnsupportedMediaTypeError(
            "the file is not audio we can read: send WAV, FLAC, OGG or MP3",
            details={"reason": str(exc)},
        ) from None
    finally:
        file.seek(0)
    if info.format not in ACCEPTED_FORMATS:
        raise UnsupportedMediaTypeError(
            f"{info.format} audio is not accepted: send WAV, FLAC, OGG or MP3"
        )
    if info.frames <= 0 or info.duration_s <= 0:
        raise ValidationFailedError("the file holds no audio samples")
    if info.duration_s > max_duration_s:
        raise PayloadTooLargeError(
            f"the audio is {info.duration_s:.0f} s long; the limit is {max_duration_s:.0f} s",
            details={"duration_s": info.duration_s, "max_duration_s": max_duration_s},
        )
    if info.channels > MAX_CHANNELS:
        raise ValidationFailedError(
            f"the audio has {info.channels} channels; at most {MAX_CHANNELS} (5.1) are accepted"
        )
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise ValidationFailedError(
            f"the sample rate {info.sample_rate} Hz is outside"
            f" {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    return info


def _text_field(form: Any, name: str, *, required: bool = True) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise ValidationFailedError(f"the form field {name!r} is required")
        return None
    if not isinstance(value, str):
        raise ValidationFailedError(f"the form field {name!r} must be text, not a file")
    value = value.strip()
    if not value or len(value) > MAX_NAME_CHARS:
        raise ValidationFailedError(f"{name!r} must be 1 to {MAX_NAME_CHARS} characters")
    return value


def _quota_error(quota: StorageQuota, room_left: int, size_bytes: int) -> PayloadTooLargeError:
    used = quota.quota_bytes - room_left
    return PayloadTooLargeError(
        f"this upload ({size_bytes / 2**20:.1f} MB) does not fit in your storage quota"
        f" ({quota.describe(used)}); delete some assets first",
        details={
            "reason": "storage_quota",
            "quota_bytes": quota.quota_bytes,
            "used_bytes": used,
            "upload_bytes": size_bytes,
        },
    )


def _declared_bytes(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def upload_track(request: Request) -> Response:
    services = services_of(request)
    settings = services.settings
    quota = StorageQuota(settings.storage_quota_mb_per_user)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
    # Every attempt counts, refused ones too, before any of the body is read.
    await services.rate_limits.hit("upload_user", principal.actor)
    async with services.database.session() as session:
        # ``?project_id=`` lets the role be checked before the body is read.
        early_project = request.query_params.get("project_id")
        if early_project:
            await require_project_role(session, principal, early_project, ProjectRole.EDITOR)
        owner = await owner_of(session, principal.identity)
        room_left = await quota.room_left(session, owner)
    declared = _declared_bytes(request)
    if (
        room_left is not None
        and declared is not None
        and declared - FORM_OVERHEAD_BYTES > room_left
    ):
        raise _quota_error(quota, room_left, declared)
    active = await services.jobs.active_jobs(principal.actor)
    if active >= settings.job_max_active_per_user:
        raise RateLimitedError(
            f"too many jobs: you already have {active} jobs queued or running (the limit is"
            f" {settings.job_max_active_per_user}); upload again when some have finished",
            retry_after_s=CAP_RETRY_AFTER_S,
            details={"limit": f"{settings.job_max_active_per_user} active jobs"},
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaTypeError("send multipart/form-data with project_id, name and file")
    async with request.form(max_files=1, max_fields=8) as form:
        project_id = _text_field(form, "project_id")
        assert project_id is not None
        if project_id != (early_project or project_id):
            raise ValidationFailedError("project_id differs between the query and the form")
        async with services.database.session() as session:
            await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
        name = _text_field(form, "name")
        assert name is not None
        kind = _text_field(form, "kind", required=False) or TrackKind.AUDIO.value
        if kind not in {k.value for k in TrackKind}:
            raise ValidationFailedError(
                f"kind must be one of {', '.join(k.value for k in TrackKind)}"
            )
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailedError("the form field 'file' must hold the uploaded audio")
        info = await anyio.to_thread.run_sync(
            check_audio, upload.file, settings.max_audio_duration_s
        )
        asset_id = new_id()
        filename = (upload.filename or "audio")[:255]
        key = asset_key(project_id, asset_id, filename)
        content_type = ACCEPTED_FORMATS[info.format]

        async def chunks() -> Any:
            await upload.seek(0)
            while chunk := await upload.read(CHUNK_BYTES):
                yield chunk

        stored = await services.store.put(key, chunks(), content_type=content_type)
    try:
        async with services.database.session() as session:
            asset = Asset(
                id=asset_id,
                project_id=project_id,
                storage_key=key,
                kind="upload",
                filename=filename,
                content_type=content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                duration_s=info.duration_s,
                sample_rate=info.sample_rate,
                channels=info.channels,
                created_by=owner,
            )
            session.add(asset)
        if room_left is not None:
            # Counted after the insert: of two uploads at once, neither slips past.
            async with services.database.session() as session:
                room_left = await quota.room_left(session, owner)
            if room_left is not None and room_left < 0:
                raise _quota_error(quota, room_left + stored.size_bytes, stored.size_bytes)
        track_id, job_id = await services.jobs.add_track(
            project_id, name, kind, asset_id, principal.actor, duration_s=info.duration_s
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            async with services.database.session() as session:
                await session.execute(delete(Asset).where(Asset.id == asset_id))
            await services.store.delete(key)
        raise
    async with services.database.session() as session:
        session.add(
            Track(id=track_id, project_id=project_id, asset_id=asset_id, name=name, kind=kind)
        )
        record_event(
            session,
            EventKind.TRACK_UPLOADED,
            project_id=project_id,
            user_id=principal.identity.user_id,
            data={"asset_id": asset_id, "bytes": stored.size_bytes, "format": info.format},
        )
    out = TrackUploadOut(asset=await asset_out(services, asset), track_id=track_id, job_id=job_id)
    return json_response(out, 201)


routes = [
    ApiRoute(
        "/api/v1/tracks/upload",
        upload_track,
        method="POST",
        summary="Upload audio as a new track (multipart: project_id, name, file[, kind])",
        tag="audio",
        response=TrackUploadOut,
        status=201,
        errors=(400, 401, 403, 404, 413, 415, 422, 429),
    ),
]

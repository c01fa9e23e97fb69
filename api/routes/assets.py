"""Assets: metadata with a download link, waveform peaks, and the bytes themselves.

- ``GET /api/v1/assets/{id}``: metadata, a presigned ``download_url`` and, once the
  analysis job ran, its figures (viewer or better).
- ``GET /api/v1/assets/{id}/waveform?points=N``: min/max peaks from the pyramid the
  analysis stored next to the asset (409 until it has run).
- ``GET /api/v1/assets/{id}/content``: the bytes with their content type, e.g. the
  coaching pitch-curve picture (kind ``pitch_curve``, ``image/svg+xml``).
"""

from __future__ import annotations

import contextlib
import json

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from jacameno.api.asset_store import read_object, sidecar_key
from jacameno.api.audio_schemas import AssetOut, WaveformOut, WaveformQuery
from jacameno.api.auth.permissions import require_row_in_project
from jacameno.api.db.models import Asset, ProjectRole
from jacameno.api.errors import ConflictError, NotFoundError, ValidationFailedError
from jacameno.api.http import ApiRoute, json_response, read_query
from jacameno.api.services import AppServices, require_principal, services_of
from jacameno.api.storage import ObjectNotFoundError
from jacameno.audio_services.jobs.compute import ANALYSIS_SUFFIX, WAVEFORM_SUFFIX
from jacameno.audio_services.waveform import WaveformPyramid


async def asset_out(services: AppServices, asset: Asset) -> AssetOut:
    analysis = None
    with contextlib.suppress(ObjectNotFoundError):
        analysis = json.loads(
            await read_object(services.store, sidecar_key(asset.storage_key, ANALYSIS_SUFFIX))
        )
    url = await services.store.presigned_url(
        asset.storage_key, expires_s=services.settings.presign_expiry_s
    )
    return AssetOut(
        id=asset.id,
        project_id=asset.project_id,
        kind=asset.kind,
        filename=asset.filename,
        content_type=asset.content_type,
        size_bytes=asset.size_bytes,
        sha256=asset.sha256,
        duration_s=asset.duration_s,
        sample_rate=asset.sample_rate,
        channels=asset.channels,
        created_at=asset.created_at,
        download_url=url,
        analysis=analysis,
    )


async def _readable_asset(request: Request) -> Asset:
    services = services_of(request)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        return await require_row_in_project(
            session,
            principal,
            Asset,
            request.path_params["asset_id"],
            ProjectRole.VIEWER,
            what="asset",
        )


async def get_asset(request: Request) -> Response:
    asset = await _readable_asset(request)
    return json_response(await asset_out(services_of(request), asset))


async def get_waveform(request: Request) -> Response:
    query = read_query(request, WaveformQuery)
    asset = await _readable_asset(request)
    services = services_of(request)
    try:
        data = await read_object(services.store, sidecar_key(asset.storage_key, WAVEFORM_SUFFIX))
    except ObjectNotFoundError:
        raise ConflictError(
            "no waveform yet: the asset's analysis job has not finished (or failed)"
        ) from None

    def peaks() -> WaveformOut:
        pyramid = WaveformPyramid.from_bytes(data)
        if query.channel is not None and query.channel >= pyramid.channels:
            raise ValueError(f"channel {query.channel} out of range 0-{pyramid.channels - 1}")
        result = pyramid.peaks(query.points, channel=query.channel, mix=query.mix)
        return WaveformOut(
            asset_id=asset.id,
            sample_rate=result.sample_rate,
            frames=result.frames,
            duration_s=result.duration_s,
            samples_per_point=result.samples_per_point,
            points=result.points,
            min=[[round(float(v), 4) for v in row] for row in result.minima],
            max=[[round(float(v), 4) for v in row] for row in result.maxima],
        )

    try:
        out = await anyio.to_thread.run_sync(peaks)
    except ValueError as exc:
        # The pyramid's own range checks (points, channel), builtin ValueErrors; its
        # AudioDecodeError is answered by api.error_table (422 as well).
        raise ValidationFailedError(str(exc)) from None
    return json_response(out)


async def get_content(request: Request) -> Response:
    asset = await _readable_asset(request)
    services = services_of(request)
    try:
        size = await services.store.size(asset.storage_key)
    except ObjectNotFoundError:
        # Said in the asset's terms: the store's own message names its storage key.
        raise NotFoundError("the asset's bytes are missing from storage") from None
    return StreamingResponse(
        services.store.get(asset.storage_key),
        media_type=asset.content_type,
        headers={"content-length": str(size), "cache-control": "private, max-age=3600"},
    )


routes = [
    ApiRoute(
        "/api/v1/assets/{asset_id}",
        get_asset,
        method="GET",
        summary="An asset: metadata, download link and analysis figures",
        tag="audio",
        response=AssetOut,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        "/api/v1/assets/{asset_id}/waveform",
        get_waveform,
        method="GET",
        summary="Waveform min/max peaks of an analysed asset",
        tag="audio",
        query=WaveformQuery,
        response=WaveformOut,
        errors=(401, 403, 404, 409, 422),
    ),
    ApiRoute(
        "/api/v1/assets/{asset_id}/content",
        get_content,
        method="GET",
        summary="An asset's bytes (audio, or the SVG pitch curve of a coaching job)",
        tag="audio",
        errors=(401, 403, 404),
    ),
]

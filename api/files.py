"""Signed downloads from the local-disk object store (its presigned URLs land here)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from jacameno.api.errors import ForbiddenError, NotFoundError
from jacameno.api.services import services_of
from jacameno.api.storage import LocalObjectStore, ObjectNotFoundError
from jacameno.api.storage.local import verify_download


async def download(request: Request) -> Response:
    services = services_of(request)
    store = services.store
    if not isinstance(store, LocalObjectStore):
        raise NotFoundError("signed local downloads are only served for the local object store")
    key = request.path_params["key"]
    expires = request.query_params.get("expires", "")
    signature = request.query_params.get("signature", "")
    if not expires.isdigit() or not verify_download(
        services.settings.secret, key, int(expires), signature, time.time()
    ):
        raise ForbiddenError("the download link is invalid or has expired")
    try:
        size = await store.size(key)
    except ObjectNotFoundError as exc:
        raise NotFoundError("no such file") from exc
    return StreamingResponse(
        store.get(key),
        media_type="application/octet-stream",
        headers={"content-length": str(size), "cache-control": "private, max-age=3600"},
    )


routes = [Route("/api/v1/files/{key:path}", download, methods=["GET"])]

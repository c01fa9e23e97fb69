"""Assets for ``audio_services.jobs``: bytes in the object store, rows in ``assets``.

Keys live under the project's folder (:func:`project_folder`), so deleting a project
deletes its objects by prefix; derived data (waveform pyramid, analysis JSON) sits
next to an asset under ``<storage_key>.<suffix>``. A produced asset belongs to the
user its requester resolves to (:func:`api.auth.actors.owner_of`) and counts against
that user's storage quota (``api/quota.py``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import structlog
from sqlalchemy import delete

from jacameno.api.auth.actors import Actor, owner_of, parse_actor
from jacameno.api.db import Database
from jacameno.api.db.models import Asset, new_id
from jacameno.api.job_ledger import shielded_session
from jacameno.api.quota import StorageQuota
from jacameno.api.storage import ObjectNotFoundError, ObjectStore
from jacameno.audio_services.jobs import JobInputError, StoredAsset
from jacameno.audio_services.jobs.protocol import JobLimitError

log = structlog.get_logger("jacameno.jobs")


def project_folder(project_id: str) -> str:
    """The object-store folder holding every object of a project (no trailing slash)."""
    return f"projects/{project_id}"


def asset_key(project_id: str, asset_id: str, filename: str) -> str:
    """Object-store key of an asset's bytes (the extension kept for downloads)."""
    suffix = Path(filename).suffix.lower()
    extension = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""
    return f"{project_folder(project_id)}/assets/{asset_id}{extension}"


def sidecar_key(storage_key: str, suffix: str) -> str:
    return f"{storage_key}.{suffix}"


async def read_object(store: ObjectStore, key: str) -> bytes:
    """A whole (small) object; raises :class:`ObjectNotFoundError`."""
    return b"".join([chunk async for chunk in store.get(key)])


async def _file_chunks(path: Path, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(chunk_bytes):
            yield chunk


def _requester(created_by: str | None) -> Actor | None:
    """The typed actor of a job's ``requested_by``; None (an asset without an owner,
    logged) when there is none or it is not an actor."""
    if not created_by:
        return None
    try:
        return parse_actor(created_by)
    except ValueError as exc:
        log.warning("a produced asset has no owner", reason=str(exc))
        return None


class StoreAssetStore:
    """:class:`audio_services.jobs.AssetStore` over the object store and ``assets`` rows.

    A produced asset is recorded as created by the user its requester resolves to
    (``created_by`` is an actor, ``user:<id>`` or ``apikey:<id>``), and is refused
    (:class:`JobLimitError`) when it takes that user past ``quota``.
    """

    def __init__(
        self, database: Database, store: ObjectStore, quota: StorageQuota | None = None
    ) -> None:
        self.database = database
        self.store = store
        self.quota = quota or StorageQuota(0)

    async def fetch(self, project_id: str, asset_id: str, directory: Path) -> StoredAsset:
        async with shielded_session(self.database) as session:
            asset = await session.get(Asset, asset_id)
        if asset is None or asset.project_id != project_id:
            raise JobInputError(f"asset {asset_id} is not in this project")
        path = directory / f"{asset_id}{Path(asset.storage_key).suffix}"
        try:
            async with await anyio.open_file(path, "wb") as handle:
                async for chunk in self.store.get(asset.storage_key):
                    await handle.write(chunk)
        except ObjectNotFoundError:
            raise JobInputError(f"the audio of asset {asset_id} is missing from storage") from None
        return StoredAsset(asset_id, path, asset.kind, asset.filename)

    async def add(
        self,
        project_id: str,
        path: Path,
        *,
        kind: str,
        filename: str,
        content_type: str,
        audio: dict[str, Any] | None,
        created_by: str | None,
    ) -> str:
        asset_id = new_id()
        key = asset_key(project_id, asset_id, filename)
        stored = await self.store.put(key, _file_chunks(path), content_type=content_type)
        audio = audio or {}
        requester = _requester(created_by)
        try:
            async with shielded_session(self.database) as session:
                owner = await owner_of(session, requester) if requester else None
                session.add(
                    Asset(
                        id=asset_id,
                        project_id=project_id,
                        storage_key=key,
                        kind=kind,
                        filename=filename,
                        content_type=content_type
                        or mimetypes.guess_type(filename)[0]
                        or "application/octet-stream",
                        size_bytes=stored.size_bytes,
                        sha256=stored.sha256,
                        duration_s=audio.get("duration_s"),
                        sample_rate=audio.get("sample_rate"),
                        channels=audio.get("channels"),
                        created_by=owner,
                    )
                )
            # Counted after the insert, so that two jobs at once cannot both slip in.
            async with shielded_session(self.database) as session:
                left = await self.quota.room_left(session, owner)
            if left is not None and left < 0:
                raise JobLimitError(
                    f"the {filename} this job produced ({stored.size_bytes / 2**20:.1f} MB)"
                    f" does not fit in the requester's storage quota"
                    f" ({self.quota.describe(self.quota.quota_bytes - left)});"
                    " delete some assets first"
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                async with shielded_session(self.database) as session:
                    await session.execute(delete(Asset).where(Asset.id == asset_id))
                await self.store.delete(key)
            raise
        return asset_id

    async def put_sidecar(self, asset_id: str, suffix: str, path: Path) -> None:
        async with shielded_session(self.database) as session:
            asset = await session.get(Asset, asset_id)
        if asset is None:
            raise JobInputError(f"asset {asset_id} was deleted")
        await self.store.put(sidecar_key(asset.storage_key, suffix), _file_chunks(path))

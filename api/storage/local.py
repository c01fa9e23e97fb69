"""Local-disk object store (the embedded default), with HMAC-signed download links."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from urllib.parse import quote

import anyio

from jacameno.api.storage.base import (
    DEFAULT_CHUNK_BYTES,
    ObjectNotFoundError,
    StorageUnavailableError,
    StoredObject,
    validate_key,
)

#: URL path under which the API serves signed local downloads.
FILES_PATH = "/api/v1/files/"


def sign_download(secret: str, key: str, expires_at: int) -> str:
    """HMAC-SHA256 over the key and the expiry (epoch seconds)."""
    message = f"{key}\n{expires_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_download(secret: str, key: str, expires_at: int, signature: str, now: float) -> bool:
    """True when ``signature`` is valid for ``key`` and the link has not expired."""
    if expires_at < now:
        return False
    return hmac.compare_digest(sign_download(secret, key, expires_at), signature)


class LocalObjectStore:
    """Objects as files under ``root``; writes go to a temporary file renamed into place."""

    def __init__(self, root: Path, *, base_url: str, secret: str) -> None:
        self.root = root.resolve()
        self._base_url = base_url.rstrip("/")
        self._secret = secret

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # validate_key already refuses '..'; this guards against symlinks in the tree.
        if not path.is_relative_to(self.root):
            raise ObjectNotFoundError(f"no object {key!r}")
        return path

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
    ) -> StoredObject:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        size = 0
        try:
            await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
            async with await anyio.open_file(tmp, "wb") as handle:
                async for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    await handle.write(chunk)
            await anyio.to_thread.run_sync(os.replace, tmp, path)
        except OSError as exc:
            raise StorageUnavailableError(f"cannot write {key!r}: {exc.strerror}") from exc
        finally:
            await anyio.Path(tmp).unlink(missing_ok=True)
        return StoredObject(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def get(
        self, key: str, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(f"no object {key!r}") from exc
        async with handle:
            while chunk := await handle.read(chunk_bytes):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)

    async def delete_prefix(self, folder: str) -> int:
        path = self._path(folder)

        def remove() -> int:
            if not path.is_dir():
                return 0
            count = sum(1 for item in path.rglob("*") if item.is_file())
            shutil.rmtree(path, ignore_errors=True)
            return count

        return await anyio.to_thread.run_sync(remove)

    async def exists(self, key: str) -> bool:
        return await anyio.Path(self._path(key)).is_file()

    async def size(self, key: str) -> int:
        try:
            stat = await anyio.Path(self._path(key)).stat()
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(f"no object {key!r}") from exc
        return stat.st_size

    async def presigned_url(self, key: str, *, expires_s: int) -> str:
        validate_key(key)
        expires_at = int(time.time()) + expires_s
        signature = sign_download(self._secret, key, expires_at)
        return (
            f"{self._base_url}{FILES_PATH}{quote(key)}?expires={expires_at}&signature={signature}"
        )

    async def check(self) -> None:
        probe = anyio.Path(self.root) / f".ready-{uuid.uuid4().hex}"
        try:
            await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)
            await probe.write_bytes(b"ok")
            await probe.unlink()
        except OSError as exc:
            raise StorageUnavailableError(f"storage folder {self.root} is not writable") from exc

    async def aclose(self) -> None:
        return None

"""The ``ObjectStore`` seam: streaming blob storage for audio and renders.

Keys are relative, ``/``-separated paths (``projects/<id>/assets/<id>.wav``);
:func:`validate_key` refuses anything that could escape the store.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from jacameno.api.errors import ApiError, BadRequestError, NotFoundError, ServiceUnavailableError

#: Size of the chunks that ``get`` yields, in bytes.
DEFAULT_CHUNK_BYTES = 256 * 1024
MAX_KEY_LENGTH = 512
_KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StorageError(ApiError):
    """Root of object-store errors."""


class InvalidKeyError(StorageError, BadRequestError):
    """The key is absolute, has ``..`` or empty parts, or characters outside ``[A-Za-z0-9._-]``."""


class ObjectNotFoundError(StorageError, NotFoundError):
    """No object is stored under the key."""


class StorageUnavailableError(StorageError, ServiceUnavailableError):
    """The backing store cannot be reached or refused the operation."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What ``put`` wrote: the key, its size in bytes and the SHA-256 of its content."""

    key: str
    size_bytes: int
    sha256: str


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise :class:`InvalidKeyError`."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"object key must be 1 to {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or "\\" in key:
        raise InvalidKeyError(f"object key must be relative and use '/': {key!r}")
    for part in key.split("/"):
        if part in ("", ".", "..") or not _KEY_PART.match(part):
            raise InvalidKeyError(
                f"object key part {part!r} is not allowed: use letters, digits, '.', '_', '-'"
                " and no '..' or empty parts"
            )
    return key


@runtime_checkable
class ObjectStore(Protocol):
    """Streaming blob storage. Implementations: local disk and S3."""

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
    ) -> StoredObject:
        """Store the streamed bytes under ``key`` (replacing any object there)."""
        ...

    def get(self, key: str, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> AsyncIterator[bytes]:
        """Stream the object's bytes; raises :class:`ObjectNotFoundError` on first read."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    async def delete_prefix(self, folder: str) -> int:
        """Delete every object under ``folder/`` (a key without the slash); returns how many."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int:
        """The object's size in bytes; raises :class:`ObjectNotFoundError`."""
        ...

    async def presigned_url(self, key: str, *, expires_s: int) -> str:
        """A URL that downloads the object without other credentials for ``expires_s``."""
        ...

    async def check(self) -> None:
        """Raise :class:`StorageUnavailableError` when the store cannot be used."""
        ...

    async def aclose(self) -> None: ...

"""Object storage: the ``ObjectStore`` seam and its local-disk and S3 implementations."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from jacameno.api.settings import Settings
from jacameno.api.storage.base import (
    InvalidKeyError,
    ObjectNotFoundError,
    ObjectStore,
    StorageError,
    StorageUnavailableError,
    StoredObject,
    validate_key,
)
from jacameno.api.storage.local import LocalObjectStore
from jacameno.api.storage.s3 import S3ObjectStore

__all__ = [
    "InvalidKeyError",
    "LocalObjectStore",
    "ObjectNotFoundError",
    "ObjectStore",
    "S3ObjectStore",
    "StorageError",
    "StorageUnavailableError",
    "StoredObject",
    "open_object_store",
    "validate_key",
]


def open_object_store(settings: Settings) -> ObjectStore:
    """Build the store named by ``JACAMENO_STORAGE_URL``."""
    parts = urlsplit(settings.storage_url)
    if parts.scheme == "s3":
        return S3ObjectStore(
            parts.netloc,
            prefix=parts.path,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=(
                settings.s3_secret_access_key.get_secret_value()
                if settings.s3_secret_access_key
                else None
            ),
            encryption=settings.s3_encryption.value if settings.s3_encryption else None,
            kms_key_id=settings.s3_kms_key_id,
        )
    root = Path(parts.netloc + parts.path)
    return LocalObjectStore(root, base_url=settings.base_url, secret=settings.secret)

"""S3 (or any S3-compatible store) through boto3, streamed with multipart uploads.

boto3 is synchronous: every call runs in a worker thread so the event loop keeps
serving. Uploads never hold more than one part (8 MiB) in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from jacameno.api.storage.base import (
    DEFAULT_CHUNK_BYTES,
    ObjectNotFoundError,
    StorageUnavailableError,
    StoredObject,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

#: Multipart part size in bytes (S3 requires at least 5 MiB for all but the last part).
PART_BYTES = 8 * 1024 * 1024
_T = TypeVar("_T")
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3ObjectStore:
    """Objects in ``bucket`` under an optional ``prefix``."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        encryption: str | None = None,
        kms_key_id: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5),
        )
        self._sse: dict[str, str] = {}
        if encryption:
            self._sse["ServerSideEncryption"] = encryption
            if kms_key_id:
                self._sse["SSEKMSKeyId"] = kms_key_id

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, key: str, fn: Callable[..., _T], /, **kwargs: Any) -> _T:
        def run() -> _T:
            return fn(**kwargs)

        try:
            return await anyio.to_thread.run_sync(run)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise ObjectNotFoundError(f"no object {key!r}") from exc
            raise StorageUnavailableError(f"S3 refused the request for {key!r}: {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(f"S3 is unreachable: {exc}") from exc

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
    ) -> StoredObject:
        full = self._key(key)
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= PART_BYTES:
                    if upload_id is None:
                        created = await self._call(
                            key,
                            self._client.create_multipart_upload,
                            Bucket=self.bucket,
                            Key=full,
                            ContentType=content_type,
                            **self._sse,
                        )
                        upload_id = created["UploadId"]
                    part, buffer = bytes(buffer[:PART_BYTES]), buffer[PART_BYTES:]
                    number = len(parts) + 1
                    answer = await self._call(
                        key,
                        self._client.upload_part,
                        Bucket=self.bucket,
                        Key=full,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=part,
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
            if upload_id is None:
                await self._call(
                    key,
                    self._client.put_object,
                    Bucket=self.bucket,
                    Key=full,
                    Body=bytes(buffer),
                    ContentType=content_type,
                    **self._sse,
                )
            else:
                if buffer:
                    number = len(parts) + 1
                    answer = await self._call(
                        key,
                        self._client.upload_part,
                        Bucket=self.bucket,
                        Key=full,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=bytes(buffer),
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
                await self._call(
                    key,
                    self._client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=full,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(
                        lambda: self._client.abort_multipart_upload(
                            Bucket=self.bucket, Key=full, UploadId=upload_id
                        )
                    )
            raise
        return StoredObject(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def get(
        self, key: str, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ) -> AsyncIterator[bytes]:
        answer = await self._call(
            key, self._client.get_object, Bucket=self.bucket, Key=self._key(key)
        )
        body = answer["Body"]
        try:
            while chunk := await anyio.to_thread.run_sync(body.read, chunk_bytes):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._call(key, self._client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def delete_prefix(self, folder: str) -> int:
        prefix = self._key(folder) + "/"

        def remove() -> int:
            deleted = 0
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", [])
                ]
                if keys:  # a page holds at most 1,000 keys, as many as one delete takes
                    self._client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                    )
                    deleted += len(keys)
            return deleted

        try:
            return await anyio.to_thread.run_sync(remove)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise StorageUnavailableError(f"S3 refused deleting {folder!r}/: {code}") from exc

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except ObjectNotFoundError:
            return False
        return True

    async def size(self, key: str) -> int:
        answer = await self._call(
            key, self._client.head_object, Bucket=self.bucket, Key=self._key(key)
        )
        return int(answer["ContentLength"])

    async def presigned_url(self, key: str, *, expires_s: int) -> str:
        return await self._call(
            key,
            self._client.generate_presigned_url,
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=expires_s,
        )

    async def check(self) -> None:
        await self._call("", self._client.head_bucket, Bucket=self.bucket)

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)

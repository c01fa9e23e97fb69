"""ObjectStore contract: the same test bodies run against local disk and S3 (moto)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from jacameno.api.settings import Settings
from jacameno.api.storage import (
    InvalidKeyError,
    LocalObjectStore,
    ObjectNotFoundError,
    ObjectStore,
    S3ObjectStore,
    StorageUnavailableError,
    open_object_store,
    validate_key,
)
from jacameno.api.storage.s3 import PART_BYTES
from tests.support.app_server import run_server


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def store(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> AsyncIterator[ObjectStore]:
    overrides: dict[str, Any] = {}
    if request.param == "s3":
        overrides = request.getfixturevalue("s3_settings")
    instance = open_object_store(make_settings(**overrides))
    try:
        yield instance
    finally:
        await instance.aclose()


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.get(key)])


async def test_put_get_roundtrip_streams(store: ObjectStore) -> None:
    data = os.urandom(300_000)
    stored = await store.put("projects/p1/assets/a.wav", chunks_of(data), content_type="audio/wav")
    assert stored.size_bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await read_all(store, "projects/p1/assets/a.wav") == data
    assert await store.size("projects/p1/assets/a.wav") == len(data)
    assert await store.exists("projects/p1/assets/a.wav")


async def test_large_object_goes_through_multipart(store: ObjectStore) -> None:
    data = os.urandom(2 * PART_BYTES + 12345)
    stored = await store.put("big/object.bin", chunks_of(data, 1024 * 1024))
    assert stored.size_bytes == len(data)
    assert hashlib.sha256(await read_all(store, "big/object.bin")).hexdigest() == stored.sha256


async def test_empty_object(store: ObjectStore) -> None:
    await store.put("empty.bin", chunks_of(b""))
    assert await store.size("empty.bin") == 0
    assert await read_all(store, "empty.bin") == b""


async def test_overwrite_replaces(store: ObjectStore) -> None:
    await store.put("k.txt", chunks_of(b"first"))
    await store.put("k.txt", chunks_of(b"second"))
    assert await read_all(store, "k.txt") == b"second"


async def test_delete_and_missing(store: ObjectStore) -> None:
    await store.put("gone.txt", chunks_of(b"x"))
    await store.delete("gone.txt")
    assert not await store.exists("gone.txt")
    await store.delete("gone.txt")  # deleting twice is fine
    with pytest.raises(ObjectNotFoundError):
        await store.size("gone.txt")
    with pytest.raises(ObjectNotFoundError):
        await read_all(store, "gone.txt")


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/./b", "a\\b", "sp ace", "a/"]
)
async def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        await store.put(key, chunks_of(b"x"))
    with pytest.raises(InvalidKeyError):
        await store.exists(key)


async def test_failed_upload_leaves_nothing(store: ObjectStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (PART_BYTES + 1)
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await store.put("partial.bin", broken())
    assert not await store.exists("partial.bin")


async def test_check_passes(store: ObjectStore) -> None:
    await store.check()


async def test_presigned_url_downloads(
    store: ObjectStore, make_settings: Callable[..., Settings]
) -> None:
    data = b"presigned content"
    await store.put("shared/file.txt", chunks_of(data))
    if isinstance(store, LocalObjectStore):
        # Local links point at the API's signed-download route: serve it for real.
        settings = make_settings(storage_url=f"file://{store.root}")
        async with run_server(settings) as server:
            local = open_object_store(settings.model_copy(update={"public_url": server.base_url}))
            url = await local.presigned_url("shared/file.txt", expires_s=60)
            async with httpx.AsyncClient() as client:
                ok = await client.get(url)
                forged = await client.get(url.replace("signature=", "signature=0"))
                expired = await client.get(
                    await local.presigned_url("shared/file.txt", expires_s=-10)
                )
        assert ok.status_code == 200
        assert ok.content == data
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "forbidden"
        assert expired.status_code == 403
    else:
        url = await store.presigned_url("shared/file.txt", expires_s=60)
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        assert response.status_code == 200
        assert response.content == data


@pytest.mark.s3
async def test_s3_server_side_encryption(
    s3_settings: dict[str, Any], make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**s3_settings, s3_encryption="AES256")
    store = open_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    await store.put("enc/a.bin", chunks_of(b"secret audio"))
    await store.put("enc/big.bin", chunks_of(os.urandom(PART_BYTES + 1)))
    client = boto3.client(
        "s3",
        endpoint_url=s3_settings["s3_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for key in ("enc/a.bin", "enc/big.bin"):
        head = client.head_object(Bucket=store.bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256"
    client.close()
    await store.aclose()


@pytest.mark.s3
async def test_s3_prefix_keeps_objects_under_it(
    s3_settings: dict[str, Any], make_settings: Callable[..., Settings]
) -> None:
    bucket = s3_settings["storage_url"].removeprefix("s3://")
    store = open_object_store(
        make_settings(**{**s3_settings, "storage_url": f"s3://{bucket}/env1"})
    )
    await store.put("x/y.txt", chunks_of(b"1"))
    client = boto3.client(
        "s3",
        endpoint_url=s3_settings["s3_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]]
    client.close()
    await store.aclose()
    assert keys == ["env1/x/y.txt"]


async def test_unreachable_s3_is_unavailable(make_settings: Callable[..., Settings]) -> None:
    store = open_object_store(
        make_settings(
            storage_url="s3://nowhere",
            s3_endpoint_url="http://127.0.0.1:9",
            s3_access_key_id="a",
            s3_secret_access_key="b",
        )
    )
    with pytest.raises(StorageUnavailableError):
        await store.check()
    await store.aclose()


def test_validate_key_accepts_normal_keys() -> None:
    assert validate_key("projects/abc/assets/0f.flac") == "projects/abc/assets/0f.flac"


async def test_local_store_stays_in_its_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root", base_url="http://x", secret="s" * 40)
    (tmp_path / "root").mkdir()
    (tmp_path / "outside.txt").write_text("not yours")
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    with pytest.raises(ObjectNotFoundError):
        await store.size("link/outside.txt")

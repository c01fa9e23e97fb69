"""Deleting a project leaves nothing behind: rows, document, versions, stored audio (disk
and S3); and the server writes documents with 32-bit client ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import boto3
import pytest
from sqlalchemy import func, select

from jacameno.api.db import Database
from jacameno.api.db.models import Asset, Version
from jacameno.collab.client import CollabClient
from jacameno.collab.protocol import decode_state_vector
from jacameno.collab.sql_tables import doc_quarantine, doc_snapshots, doc_updates
from tests.api.test_uploads import JOBS, tone_wav, upload, wait_job
from tests.support.api_client import ApiClient
from tests.support.app_server import RunningServer

TIMEOUT_S = 60


async def _rows(server: RunningServer, project_id: str) -> dict[str, int]:
    database = Database(server.settings.database_url)
    try:
        async with database.engine.connect() as conn:
            counts = {}
            for name, table, column in (
                ("doc_updates", doc_updates, doc_updates.c.room),
                ("doc_snapshots", doc_snapshots, doc_snapshots.c.room),
                ("doc_quarantine", doc_quarantine, doc_quarantine.c.room),
                ("versions", Version.__table__, Version.__table__.c.project_id),
                ("assets", Asset.__table__, Asset.__table__.c.project_id),
            ):
                query = select(func.count()).select_from(table).where(column == project_id)
                counts[name] = int((await conn.execute(query)).scalar_one())
            return counts
    finally:
        await database.aclose()


def _stored_keys(server: RunningServer, project_id: str) -> list[str]:
    settings = server.settings
    prefix = f"projects/{project_id}/"
    if settings.storage_url.startswith("file://"):
        root = Path(settings.storage_url.removeprefix("file://"))
        return [str(p.relative_to(root)) for p in (root / prefix).rglob("*") if p.is_file()]
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = settings.storage_url.removeprefix("s3://")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.mark.parametrize("storage", ["local", pytest.param("s3", marks=pytest.mark.s3)])
async def test_deleting_a_project_deletes_everything_of_it(
    start_api: Callable[..., Any], storage: str, request: pytest.FixtureRequest
) -> None:
    overrides: dict[str, Any] = dict(JOBS)
    if storage == "s3":
        overrides.update(request.getfixturevalue("s3_settings"))
    async with start_api(**overrides) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        uploaded = await upload(api, owner, project_id, tone_wav(2.0))
        assert uploaded.status_code == 201, uploaded.text
        await wait_job(server, owner, project_id, uploaded.json()["job_id"])  # sidecars too
        named = await api.call(
            "POST",
            f"/api/v1/projects/{project_id}/versions",
            owner.access_token,
            json={"name": "before the end"},
        )
        assert named.status_code == 201, named.text
        before = await _rows(server, project_id)
        assert before["versions"] == 1
        assert before["assets"] >= 1
        assert before["doc_updates"] + before["doc_snapshots"] >= 1
        assert len(await anyio.to_thread.run_sync(_stored_keys, server, project_id)) >= 2

        deleted = await api.call("DELETE", f"/api/v1/projects/{project_id}", owner.access_token)
        assert deleted.status_code == 204

        assert set((await _rows(server, project_id)).values()) == {0}
        assert await anyio.to_thread.run_sync(_stored_keys, server, project_id) == []
        again = await api.call("GET", f"/api/v1/projects/{project_id}", owner.access_token)
        assert again.status_code == 404


async def test_server_written_documents_use_32_bit_client_ids(api: ApiClient) -> None:
    """pycrdt picks 53-bit client ids; yjs uses 32-bit ones, and pycrdt 0.12 clients
    misread larger ids and re-send the first items under a wrong id."""
    owner = await api.signup()
    project_id = await api.create_project(owner)  # the server writes meta and the title
    base_url = str(api.http.base_url).rstrip("/")
    url = f"{base_url.replace('http', 'ws', 1)}/collab/{project_id}"
    async with CollabClient(url, token=owner.access_token) as peer:
        with anyio.fail_after(TIMEOUT_S):
            await peer.wait_synced()
        clients = decode_state_vector(peer.doc.get_state())
    server_clients = [client for client in clients if client != peer.doc.client_id]
    assert server_clients
    assert all(client < 2**32 for client in server_clients)

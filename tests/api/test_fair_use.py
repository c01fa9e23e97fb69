"""Fair use of the upload and job machinery over HTTP and from real peers: the upload
rate limit, the storage quota (uploads and renders), the cap on queued-or-running jobs
per requester, and jobs written into the document counted against the AI rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from sqlalchemy import select

from jacameno.api.db import Database
from jacameno.api.db.models import Asset, Job
from jacameno.collab.client import CollabClient, collab_url
from jacameno.docs_model import ProjectDocument
from tests.api.test_ai_jobs import drums, post_job, uploaded
from tests.api.test_uploads import JOBS, WAIT_S, document_of, tone_wav, upload, wait_job
from tests.support.api_client import Account, ApiClient
from tests.support.app_server import RunningServer

LIMITED = {**JOBS, "rate_limits_enabled": True}
MB = 1024 * 1024
BOUNDARY = "jacameno-test-boundary"


def stored_asset_ids(server: RunningServer, project_id: str) -> set[str]:
    """Ids of the assets whose bytes (or sidecars) are in the local object store."""
    url = urlsplit(server.settings.storage_url)
    root = Path(url.netloc + url.path)
    folder = root / "projects" / project_id / "assets"
    return {path.name.split(".")[0] for path in folder.iterdir()} if folder.exists() else set()


async def upload_chunked(api: ApiClient, account: Account, project_id: str, data: bytes) -> Any:
    """An upload without Content-Length (chunked): its size is known only once streamed."""
    head = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("project_id", project_id), ("name", "Streamed"))
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="s.wav"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    return await api.http.post(
        "/api/v1/tracks/upload",
        content=chunks(),
        headers={**account.headers, "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


async def rows_of(server: RunningServer, model: Any, **where: Any) -> list[Any]:
    database = Database(server.settings.database_url)
    try:
        async with database.session() as session:
            query = select(model).filter_by(**where)
            return list((await session.execute(query)).scalars())
    finally:
        await database.aclose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_uploads_are_rate_limited_per_caller(start_api: Callable[..., Any]) -> None:
    async with start_api(**LIMITED, rate_limit_upload_user="2/hour") as (_server, api):
        owner, editor = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, editor, "editor")
        for _ in range(2):
            response = await upload(api, owner, project_id, tone_wav(1.0))
            assert response.status_code == 201, response.text
        refused = await upload(api, owner, project_id, tone_wav(1.0))
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()["error"]["details"]["limit"] == "2 per 1 hour"
        # Counted per caller: the editor uploads to the same project.
        assert (await upload(api, editor, project_id, tone_wav(1.0))).status_code == 201


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_storage_quota_counts_uploads_and_renders(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS, storage_quota_mb_per_user=1) as (server, api):
        owner, editor = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, editor, "editor")
        first = tone_wav(3.0)  # 529 KB of the 1 MB quota
        body = (await uploaded(server, api, owner, project_id, Take=(first, "audio")))["Take"]
        kept = body["asset"]["id"]

        # Content-Length says it cannot fit: refused before the body is stored.
        refused = await upload(api, owner, project_id, first)
        assert refused.status_code == 413, refused.text
        details = refused.json()["error"]["details"]
        assert details["reason"] == "storage_quota"
        assert details["quota_bytes"] == MB
        assert details["used_bytes"] == len(first)
        # Streamed without Content-Length: stored, measured, deleted again.
        streamed = await upload_chunked(api, owner, project_id, first)
        assert streamed.status_code == 413, streamed.text
        assert stored_asset_ids(server, project_id) == {kept}
        assert [asset.id for asset in await rows_of(server, Asset, project_id=project_id)] == [kept]
        # The quota is the uploader's: the editor still has room in the same project.
        assert (await upload(api, editor, project_id, first)).status_code == 201

        # A render counts against the user whose job produced it.
        mixing = await post_job(api, owner, "mixing", project_id=project_id)
        job = await wait_job(server, owner, project_id, mixing["id"])
        assert job.status.value == "done", job.error
        render = (await rows_of(server, Asset, id=job.result["render_asset_id"]))[0]
        assert render.created_by == owner.user_id
        room_before_render = MB - len(first)
        fits_without_render = tone_wav((room_before_render - render.size_bytes // 2) / 176_400)
        assert len(fits_without_render) < room_before_render
        late = await upload(api, owner, project_id, fits_without_render)
        assert late.status_code == 413, late.text
        assert late.json()["error"]["details"]["used_bytes"] == len(first) + render.size_bytes


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_requester_with_too_many_active_jobs_is_refused(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**JOBS, job_max_active_per_user=2) as (server, api):
        owner, editor = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, editor, "editor")
        await uploaded(server, api, owner, project_id, Drums=(drums(2.0), "audio"))
        # Two jobs of the owner's still queued (say, behind other users' work).
        database = Database(server.settings.database_url)
        try:
            async with database.session() as session:
                for preset in ("rock", "acoustic"):
                    session.add(
                        Job(
                            project_id=project_id,
                            kind="mixing",
                            input_hash=preset,
                            params={"preset": preset},
                            requested_by=f"user:{owner.user_id}",
                        )
                    )
        finally:
            await database.aclose()

        refused = await api.call(
            "POST", "/api/v1/ai/mixing", owner.access_token, json={"project_id": project_id}
        )
        assert refused.status_code == 429, refused.text
        assert "too many jobs" in refused.json()["error"]["message"]
        assert refused.json()["error"]["details"] == {"limit": "2 active jobs"}
        assert int(refused.headers["retry-after"]) >= 1
        project = await document_of(server, owner, project_id)
        failed = [job for job in project.list_jobs() if job.kind.value == "mixing"]
        assert [job.status.value for job in failed] == ["failed"]
        assert "already has 2 jobs queued or running" in (failed[0].error or "")
        # An upload (which queues an analysis) is refused before its body is read.
        assert (await upload(api, owner, project_id, tone_wav(1.0))).status_code == 429
        # Another user is not held back.
        accepted = await post_job(api, editor, "mixing", project_id=project_id)
        job = await wait_job(server, editor, project_id, accepted["id"])
        assert job.status.value == "done", job.error


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_jobs_written_into_the_document_count_against_the_ai_limit(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**LIMITED, rate_limit_ai_user="2/hour") as (server, api):
        owner, editor = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, editor, "editor")
        await uploaded(server, api, owner, project_id, Drums=(drums(2.0), "audio"))

        async with CollabClient(
            collab_url(server.base_url, project_id), token=editor.access_token
        ) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
            project = ProjectDocument(peer.doc)
            # A peer writes three jobs straight into the document, claiming to be someone else.
            job_ids = [
                project.request_job("mixing", {"preset": preset}, requested_by=owner.user_id)
                for preset in ("pop", "rock", "acoustic")
            ]
            with anyio.fail_after(WAIT_S):
                await peer.wait_for(
                    lambda: all(project.get_job(job_id).status.is_final for job_id in job_ids)
                )
            jobs = [project.get_job(job_id) for job_id in job_ids]
        assert [job.status.value for job in jobs] == ["done", "done", "failed"]
        assert (jobs[2].error or "").startswith("rate limited: too many requests")
        assert {job.requested_by for job in jobs} == {f"user:{editor.user_id}"}
        row = await api.call("GET", f"/api/v1/jobs/{job_ids[0]}", owner.access_token)
        assert row.json()["requested_by"] == f"user:{editor.user_id}"
        # The same limit as REST: the editor's next request is refused, the owner's is not.
        refused = await api.call(
            "POST", "/api/v1/ai/mixing", editor.access_token, json={"project_id": project_id}
        )
        assert refused.status_code == 429
        assert (await post_job(api, owner, "mixing", project_id=project_id, preset="podcast"))["id"]

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from jacameno.api.db.migrate import head_revision, upgrade
from jacameno.api.settings import Settings
from tests.support.app_server import run_server


async def test_healthz_and_readyz_on_embedded_defaults(
    make_settings: Callable[..., Settings],
) -> None:
    async with run_server(make_settings()) as server, httpx.AsyncClient() as client:
        health = await client.get(f"{server.base_url}/healthz")
        ready = await client.get(f"{server.base_url}/readyz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    head = head_revision()
    assert ready.json()["checks"] == {
        "database": {"status": "ok"},
        "schema": {"status": "ok", "current": head, "head": head},
        "storage": {"status": "ok"},
    }


async def test_readyz_is_503_when_the_database_is_unreachable(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    async with run_server(settings) as server, httpx.AsyncClient() as client:
        ready = await client.get(f"{server.base_url}/readyz")
        health = await client.get(f"{server.base_url}/healthz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "error"
    assert body["checks"]["storage"]["status"] == "ok"
    assert health.status_code == 200


@pytest.mark.redis
async def test_readyz_names_redis_when_configured(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    async with (
        run_server(make_settings(redis_url=redis_url)) as server,
        httpx.AsyncClient() as client,
    ):
        ready = await client.get(f"{server.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"] == {"status": "ok"}


async def test_readyz_is_503_when_redis_is_down(make_settings: Callable[..., Settings]) -> None:
    async with (
        run_server(make_settings(redis_url="redis://127.0.0.1:9/0")) as server,
        httpx.AsyncClient() as client,
    ):
        ready = await client.get(f"{server.base_url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"]["status"] == "error"


@pytest.mark.postgres
async def test_readyz_on_postgresql(
    make_settings: Callable[..., Settings], postgres_url: str
) -> None:
    await upgrade(postgres_url)
    async with (
        run_server(make_settings(database_url=postgres_url)) as server,
        httpx.AsyncClient() as client,
    ):
        ready = await client.get(f"{server.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == {"status": "ok"}


async def test_errors_use_one_envelope_and_headers(make_settings: Callable[..., Settings]) -> None:
    async with run_server(make_settings()) as server, httpx.AsyncClient() as client:
        missing = await client.get(f"{server.base_url}/no/such/route")
        wrong_method = await client.delete(f"{server.base_url}/healthz")
        with_id = await client.get(
            f"{server.base_url}/healthz", headers={"x-request-id": "abc-123"}
        )
        bad_id = await client.get(
            f"{server.base_url}/healthz", headers={"x-request-id": "<script>"}
        )
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "not_found", "message": "Not Found", "details": None}
    }
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert with_id.headers["x-request-id"] == "abc-123"
    assert bad_id.headers["x-request-id"] != "<script>"
    for response in (missing, wrong_method, with_id):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" in response.headers


async def test_oversized_bodies_get_413(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_body_bytes=2048)
    async with run_server(settings) as server, httpx.AsyncClient() as client:
        declared = await client.post(f"{server.base_url}/healthz", content=b"x" * 4096)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"


async def test_metrics_count_requests_by_route(make_settings: Callable[..., Settings]) -> None:
    async with run_server(make_settings()) as server, httpx.AsyncClient() as client:
        await client.get(f"{server.base_url}/healthz")
        await client.get(f"{server.base_url}/nope/1")
        metrics = await client.get(f"{server.base_url}/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'jacameno_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "jacameno_http_request_duration_seconds_bucket" in text


def test_sentry_is_off_without_a_dsn(make_settings: Callable[..., Settings]) -> None:
    from jacameno.api.observability import init_sentry

    assert init_sentry(make_settings()) is False

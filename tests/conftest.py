"""Shared fixtures: real SQLite/PostgreSQL databases, an S3 server, Redis, settings.

Tests that need PostgreSQL, Redis, S3, Node or Chromium skip with the reason when
the service is missing, and fail instead when ``JACAMENO_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import pytest
import structlog

from jacameno.api.settings import Settings, load_settings
from tests.support.app_server import free_port
from tests.support.fake_openai import fake_openai  # noqa: F401 (a fixture for every test)
from tests.support.smtp import inbox  # noqa: F401 (a fixture for every test)

PG_HOST = os.environ.get("JACAMENO_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("JACAMENO_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("JACAMENO_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("JACAMENO_TEST_PG_DB", "test")
REDIS_TEST_URL = os.environ.get("JACAMENO_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def services_required() -> bool:
    return os.environ.get("JACAMENO_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip (or, with JACAMENO_REQUIRE_SERVICES=1, fail) because a service is missing."""
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- logs


def pytest_configure(config: pytest.Config) -> None:
    """Every log record goes through stdlib logging, where pytest captures it (and shows
    it with a failing test).

    Unconfigured, structlog prints to ``sys.stdout`` as it is at the call: a server
    thread logging while pytest writes a result (its capture suspended for that moment)
    printed between the results. Outside a test's phases, pytest's handler is not on
    the root logger; the null handler keeps logging's last resort from printing then.
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    logging.getLogger().addHandler(logging.NullHandler())


# --------------------------------------------------------------------------- Node


@pytest.fixture
def node() -> None:
    """Skip (or fail with JACAMENO_REQUIRE_SERVICES=1) without Node and the npm test packages."""
    from tests.support.node_peer import node_unavailable_reason

    reason = node_unavailable_reason()
    if reason is not None:
        service_missing(f"the Node yjs peers cannot run: {reason}")


@pytest.fixture(autouse=True)
def _node_for_marked_tests(request: pytest.FixtureRequest) -> None:
    """Tests marked ``node`` get the ``node`` check without asking for it."""
    if request.node.get_closest_marker("node") is not None:
        request.getfixturevalue("node")


# --------------------------------------------------------------------------- settings


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Factory: settings on embedded defaults under ``tmp_path``, with overrides."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": tmp_path / "var",
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'test.db'}",
            "storage_url": f"file://{tmp_path / 'var' / 'storage'}",
            "secret_key": "test-secret-" + "x" * 40,
            "log_format": "console",
            # The API alone: a built web/dist would answer unknown paths with its page.
            "web_dist": tmp_path / "no-web-client",
            # The embedding model loads on first use, not at each of the suite's starts.
            "lyrics_warm_up": False,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


# --------------------------------------------------------------------------- PostgreSQL


async def _pg_admin() -> asyncpg.Connection:
    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; yields its name."""
    if not _port_open(PG_HOST, PG_PORT):
        service_missing(f"PostgreSQL is not answering on {PG_HOST}:{PG_PORT}")
    name = f"jacameno_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await _pg_admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await _pg_admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    anyio.run(create)
    yield name
    anyio.run(drop)


@pytest.fixture
async def postgres_url(postgres_database: str) -> str:
    """The session database, emptied (fresh ``public`` schema) before this test."""
    conn = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=postgres_database
    )
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{postgres_database}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL: a SQLite file, or the PostgreSQL test database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


# --------------------------------------------------------------------------- S3 (moto)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port (real HTTP, reached through boto3)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - dev extras missing
        service_missing(f"moto[server] is not installed: {exc}")
        raise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the moto server."""
    import boto3

    name = f"jacameno-{uuid.uuid4().hex[:16]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    client.close()
    return name


@pytest.fixture
def s3_settings(s3_endpoint: str, s3_bucket: str) -> dict[str, Any]:
    """Settings overrides that point storage at the moto bucket."""
    return {
        "storage_url": f"s3://{s3_bucket}",
        "s3_endpoint_url": s3_endpoint,
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
    }


# --------------------------------------------------------------------------- Redis


@pytest.fixture
async def redis_url() -> str:
    """A spare Redis database number on the local server, flushed before the test."""
    from redis.asyncio import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    client = Redis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        await client.aclose()
        service_missing(f"Redis is not answering at {REDIS_TEST_URL}")
    await client.flushdb()
    await client.aclose()
    return REDIS_TEST_URL


# --------------------------------------------------------------------------- one name per module

_BARE_NAMES = ("api", "collab", "docs_model", "audio_services")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any of our modules was loaded outside the `jacameno` namespace (the
    source folders sit at the top of the checkout, so a stray ``import api`` would load a
    second copy of every module it touches)."""
    import sys

    stray = sorted(name for name in sys.modules if name.split(".", 1)[0] in _BARE_NAMES)
    if stray:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nmodules loaded outside the jacameno namespace: {', '.join(stray[:10])}")

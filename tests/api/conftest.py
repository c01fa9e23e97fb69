"""Fixtures for API tests: a running server on SQLite or PostgreSQL and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from jacameno.api.db.migrate import upgrade
from jacameno.api.settings import Settings
from tests.support.api_client import ApiClient
from tests.support.app_server import RunningServer, run_server

#: Argon2 at its cheapest: the tests check behaviour, not hashing cost.
FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_kib": 64}


@pytest.fixture
def start_api(db_url: str, make_settings: Callable[..., Settings]) -> Callable[..., Any]:
    """Factory: ``async with start_api(**overrides) as (server, client)`` on the test database."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[tuple[RunningServer, ApiClient]]:
        await upgrade(db_url)
        settings = make_settings(database_url=db_url, **{**FAST_HASHING, **overrides})
        async with (
            run_server(settings) as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        ):
            yield server, ApiClient(http)

    return start


@pytest.fixture
async def api(start_api: Callable[..., Any]) -> AsyncIterator[ApiClient]:
    """A client of a running server with default test settings."""
    async with start_api() as (_server, client):
        yield client

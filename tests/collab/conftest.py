"""Fixtures for collaboration tests: a running server, accounts, and Python peers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from jacameno.api.db.migrate import upgrade
from jacameno.api.settings import Settings
from jacameno.collab.client import CollabClient
from tests.support.api_client import Account, ApiClient
from tests.support.app_server import RunningServer, run_server

FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "rate_limits_enabled": False}


@dataclass
class CollabWorld:
    """A running server with an owner, an editor, a viewer and one project."""

    server: RunningServer
    api: ApiClient
    owner: Account
    editor: Account
    viewer: Account
    project_id: str

    def url(self, project_id: str | None = None) -> str:
        return f"{self.server.ws_url}/collab/{project_id or self.project_id}"

    def peer(self, account: Account | None = None, **kwargs: Any) -> CollabClient:
        token = (account or self.editor).access_token
        return CollabClient(self.url(), token=token, **kwargs)


@pytest.fixture
def start_world(db_url: str, make_settings: Callable[..., Settings]) -> Callable[..., Any]:
    """Factory: ``async with start_world(**settings) as world``; same database every time.
    ``app_options`` go to ``create_app`` (e.g. a ``frames_factory``)."""

    @asynccontextmanager
    async def start(
        reuse: CollabWorld | None = None,
        *,
        app_options: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[CollabWorld]:
        await upgrade(db_url)
        settings = make_settings(database_url=db_url, **{**FAST, **overrides})
        async with (
            run_server(settings, **(app_options or {})) as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        ):
            api = ApiClient(http)
            if reuse is not None:
                yield CollabWorld(
                    server, api, reuse.owner, reuse.editor, reuse.viewer, reuse.project_id
                )
                return
            owner = await api.signup()
            editor = await api.signup()
            viewer = await api.signup()
            project_id = await api.create_project(owner)
            await api.add_member(owner, project_id, editor, "editor")
            await api.add_member(owner, project_id, viewer, "viewer")
            yield CollabWorld(server, api, owner, editor, viewer, project_id)

    return start


@pytest.fixture
async def world(start_world: Callable[..., Any]) -> AsyncIterator[CollabWorld]:
    async with start_world() as running:
        yield running

"""Security tests run against the same real server as the API and collaboration tests
(SQLite and PostgreSQL)."""

from tests.api.conftest import api, start_api
from tests.collab.conftest import start_world, world

__all__ = ["api", "start_api", "start_world", "world"]

"""Security tests run against the same real server as the API tests (SQLite and PostgreSQL)."""

from tests.api.conftest import api, start_api

__all__ = ["api", "start_api"]

"""The long-lived services one application owns, opened and closed by its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from api.db import Database
from api.observability import Metrics
from api.settings import Settings
from api.storage import ObjectStore

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(slots=True)
class AppServices:
    """Everything a request handler may use; reached through :func:`services_of`."""

    settings: Settings
    metrics: Metrics
    database: Database
    store: ObjectStore
    redis: Redis | None


def services_of(connection: HTTPConnection) -> AppServices:
    """The running application's services (lifespan state)."""
    services = connection.state.services
    assert isinstance(services, AppServices), "the application lifespan has not started"
    return services

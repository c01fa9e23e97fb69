"""Per-request GraphQL context: the services and the (lazily authenticated) caller."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.principal import Principal
from jacameno.api.services import AppServices, client_ip, require_principal


@dataclass
class Context:
    request: Request
    services: AppServices
    #: The response being built (a provider sign-in sets its flow cookie on it).
    response: Response | None = None
    _principal: Principal | None = field(default=None, init=False)

    async def principal(self) -> Principal:
        """The caller; raises 401 (as a GraphQL error) without valid credentials."""
        if self._principal is None:
            async with self.services.database.session() as session:
                self._principal = await require_principal(self.request, session)
        return self._principal

    @property
    def client_ip(self) -> str:
        return client_ip(self.request)

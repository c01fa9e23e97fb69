"""Who is asking (address and User-Agent) and the security notices emailed about it."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from jacameno.api.accounts import messages
from jacameno.api.accounts.sessions import describe_device
from jacameno.api.db.models import User
from jacameno.api.services import AppServices, client_ip


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request came from: for the session list and the notices."""

    ip: str | None
    agent: str

    @classmethod
    def of(cls, connection: HTTPConnection) -> Client:
        ip = client_ip(connection)
        return cls(None if ip == "unknown" else ip, connection.headers.get("user-agent", ""))


async def notice(services: AppServices, user: User, event: str, client: Client) -> None:
    """Tell ``user`` by email that ``event`` happened, and from which device and place."""
    place = await services.accounts.places.place(client.ip)
    where = ", ".join(p for p in (describe_device(client.agent), place, client.ip) if p)
    services.accounts.notify(
        messages.security_notice(
            user.email, user.display_name, event, where, f"{services.settings.base_url}/account"
        )
    )

"""Actors: who did something, as written in ``requested_by``, grants and logs.

An actor is ``<kind>:<id>``: ``user:<32 hex>`` (a person, :class:`UserPrincipal`),
``apikey:<32 hex>`` (a bot's API key, :class:`ApiKeyPrincipal`) or
``service:<name>`` (the server itself, e.g. ``service:jobs``). Code passes the
typed :class:`Actor` and writes the string only where it is stored; a stored
string comes back through :func:`parse_actor`, never by slicing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.db.models import ApiKey, User

_ROW_ID = re.compile(r"^[0-9a-f]{32}$")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "apikey"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Actor:
    """One actor; ``str(actor)`` is its stored form ``<kind>:<ident>``."""

    kind: ActorKind
    ident: str

    def __post_init__(self) -> None:
        pattern = _SERVICE_NAME if self.kind is ActorKind.SERVICE else _ROW_ID
        if not pattern.match(self.ident):
            raise ValueError(
                f"{self.ident!r} is not a valid {self.kind.value} id: expected "
                + ("a lower-case name" if self.kind is ActorKind.SERVICE else "32 hex digits")
            )

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.ident}"

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls(ActorKind.USER, user_id)

    @classmethod
    def api_key(cls, key_id: str) -> Actor:
        return cls(ActorKind.API_KEY, key_id)

    @property
    def user_id(self) -> str | None:
        """The user's id for a ``user:`` actor, else None (a bot or the server)."""
        return self.ident if self.kind is ActorKind.USER else None


def parse_actor(text: str) -> Actor:
    """The actor written as ``text``; raises ``ValueError`` saying what is wrong."""
    kind, separator, ident = text.partition(":")
    if not separator:
        raise ValueError(f"{text!r} is not an actor: expected '<kind>:<id>'")
    try:
        actor_kind = ActorKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in ActorKind)
        raise ValueError(f"{text!r} is not an actor: its kind must be one of {known}") from None
    return Actor(actor_kind, ident)


async def owner_of(session: AsyncSession, actor: Actor) -> str | None:
    """The user whose storage quota the actor's assets count against: the user itself,
    or the user who created the API key; None for the server or a deleted user or key."""
    if actor.kind is ActorKind.USER:
        user = await session.get(User, actor.ident)
        return user.id if user is not None else None
    if actor.kind is ActorKind.API_KEY:
        key = await session.get(ApiKey, actor.ident)
        return key.created_by if key is not None else None
    return None

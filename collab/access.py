"""What one connection may do, and what ends it: its :class:`Grant`.

The room server knows nothing about accounts. The application hands it a grant
per connection (who is connecting, whether it may write, when its credential
expires, and which credentials it rests on) and later tells it when any of
those change, so that rights follow revocation, demotion, removal, logout,
deletion and expiry on sockets that are already open.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

#: Prefix of the transaction origin of a peer's updates: ``peer:<actor>``.
PEER_ORIGIN_PREFIX = "peer:"


@dataclass(frozen=True, slots=True)
class Grant:
    """One connection's rights.

    ``actor`` names who is connected (``user:<id>``, ``apikey:<id>``); a peer's
    updates are applied with the transaction origin ``peer:<actor>``, so services
    observing the document know who wrote what. ``credentials`` are the ids whose
    revocation ends the connection (``token:<jti>``, ``family:<id>``,
    ``apikey:<id>``, ``user:<id>``). ``expires_at`` is a Unix time in seconds.
    """

    actor: str
    can_write: bool
    expires_at: float | None = None
    credentials: frozenset[str] = field(default_factory=frozenset)

    @property
    def origin(self) -> str:
        """The transaction origin of this peer's updates."""
        return PEER_ORIGIN_PREFIX + self.actor

    def with_write(self, can_write: bool) -> Grant:
        return replace(self, can_write=can_write)


def actor_of_origin(origin: object) -> str | None:
    """The actor of a ``peer:<actor>`` transaction origin, or None for anything else."""
    if isinstance(origin, str) and origin.startswith(PEER_ORIGIN_PREFIX):
        return origin[len(PEER_ORIGIN_PREFIX) :]
    return None

"""A Python peer's presence: pycrdt's :class:`~pycrdt.Awareness`, kept alive as browsers do.

y-protocols drops a peer's state once it has gone ``timeout_s`` (30 s) without an
update, so every peer renews its own state every half of that, even when it does
not change; a bot that stayed quiet would otherwise vanish from every browser.
Remote states are expired the same way here, and forgotten when the connection
closes (the server sends every current state again on reconnect).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import pycrdt
from anyio.abc import TaskStatus

from jacameno.collab.protocol import awareness_message, decode_awareness

#: Seconds without renewal after which a state counts as gone (y-protocols' outdatedTimeout).
DEFAULT_AWARENESS_TIMEOUT_S = 30.0


class ClientPresence:
    """This client's awareness state and the states of the peers it has heard of.

    ``send`` takes each frame announcing a change of the local state (renewals
    included); ``changed`` is called after every change, local or remote.
    """

    def __init__(
        self,
        doc: pycrdt.Doc[Any],
        *,
        send: Callable[[bytes], None],
        changed: Callable[[], None],
        timeout_s: float = DEFAULT_AWARENESS_TIMEOUT_S,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"awareness timeout_s must be positive, got {timeout_s}")
        # pycrdt checks every tenth of the timeout and renews past half of it.
        self.awareness = pycrdt.Awareness(doc, outdated_timeout=max(1, round(timeout_s * 1000)))
        # pycrdt starts from an empty state; a client shows nothing until it sets one.
        self.awareness.set_local_state(None)
        self._send = send
        self._changed = changed
        self.awareness.observe(self._on_update)

    @property
    def client_id(self) -> int:
        return int(self.awareness.client_id)

    @property
    def local_state(self) -> dict[str, Any] | None:
        return self.awareness.get_local_state()

    def remote_states(self) -> dict[int, Any]:
        """The live state of every other client, by client id."""
        me = self.client_id
        return {client: state for client, state in self.awareness.states.items() if client != me}

    def set_local(self, state: Mapping[str, Any] | None) -> None:
        """Publish this client's state (None removes it)."""
        self.awareness.set_local_state(None if state is None else dict(state))

    def announce(self) -> None:
        """Announce the local state on a new connection, with a clock past the removal
        the server made of the last connection's state (its clock + 1): at a clock it
        has seen, the state would be dropped as stale until the next renewal."""
        state = self.local_state
        if state is not None:
            self.awareness.meta[self.client_id]["clock"] += 1
            self.awareness.set_local_state(state)

    def apply(self, payload: bytes) -> None:
        """Take an awareness update from the server (raises ProtocolError when malformed)."""
        decode_awareness(payload)
        self.awareness.apply_awareness_update(payload, "remote")

    def forget_remote(self) -> None:
        """Drop every other client's state (the connection closed)."""
        others = list(self.remote_states())
        if others:
            self.awareness.remove_awareness_states(others, "disconnected")

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Renew the local state and expire remote ones until cancelled."""
        try:
            await self.awareness.start(task_status=task_status)
        finally:
            with contextlib.suppress(RuntimeError):  # it never got as far as starting
                await self.awareness.stop()

    def _on_update(self, topic: str, event: tuple[dict[str, Any], Any]) -> None:
        if topic != "update":
            return  # "change" is the same event less renewals
        changes, origin = event
        if origin == "local":
            clients = changes["added"] + changes["updated"] + changes["removed"]
            self._send(awareness_message(self.awareness.encode_awareness_update(clients)))
        self._changed()

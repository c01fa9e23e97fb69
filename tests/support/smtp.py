"""A real SMTP server on loopback (aiosmtpd) whose messages the tests read.

The server's own thread receives; a test waits for the next message on a queue
(``await inbox.next()``), never on a sleep.
"""

from __future__ import annotations

import queue
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import anyio
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.app_server import free_port

#: Seconds a test waits for a message before failing.
WAIT_S = 15.0


class Inbox:
    """Every message the server accepted, in order."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._queue: queue.Queue[EmailMessage] = queue.Queue()
        #: Messages still to turn away with a temporary failure (451), as a busy server.
        self.refuse = 0
        self.refused = 0

    @property
    def settings(self) -> dict[str, Any]:
        """Settings that send the application's email here."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none"}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 busy, try again later"
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self._queue.put(message)
        return "250 OK"

    async def next(self, timeout_s: float = WAIT_S) -> EmailMessage:
        """The next message (waits for it to arrive)."""
        return await anyio.to_thread.run_sync(self.next_blocking, timeout_s)

    def next_blocking(self, timeout_s: float = WAIT_S) -> EmailMessage:
        """The next message, blocking this thread until it arrives (for sync tests);
        `queue.Empty` after `timeout_s`."""
        return self._queue.get(timeout=timeout_s)

    def empty(self) -> bool:
        return self._queue.empty()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None, "the message has no plain-text part"
    return str(body.get_content())


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None, "the message has no HTML part"
    return str(body.get_content())


def link_in(message: EmailMessage) -> str:
    """The one address of this server's pages the plain-text body holds."""
    found = re.findall(r"https?://\S+#token=[\w-]+", text_of(message))
    assert len(found) == 1, text_of(message)
    return found[0]


def token_in(message: EmailMessage) -> str:
    return link_in(message).rpartition("#token=")[2]


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """An SMTP server on a free 127.0.0.1 port until the block exits."""
    port = free_port()
    handler = Inbox("127.0.0.1", port)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 for one test."""
    with smtp_server() as handler:
        yield handler

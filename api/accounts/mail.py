"""Account email: an outbox that sends over SMTP in the background.

Sending never waits on the SMTP server (a request answers as fast whether or not an
account exists). Unset SMTP: messages are logged in development and test, refused in
production (:class:`MailUnavailableError`), where a lost reset link is a locked-out user.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

import anyio
import structlog
from anyio.streams.memory import MemoryObjectSendStream

from jacameno.api.errors import ServiceUnavailableError
from jacameno.api.settings import Environment, Settings

log = structlog.get_logger(__name__)

#: Messages waiting to be sent at most; past it sending is refused (503).
OUTBOX_SIZE = 1000
#: Attempts per message, with this many seconds between the first two (doubling).
ATTEMPTS = 3
FIRST_RETRY_S = 1.0
#: Seconds a shutdown waits for the outbox to empty.
DRAIN_S = 10.0


class MailUnavailableError(ServiceUnavailableError):
    """Email cannot be sent here (no SMTP server set in production, or the outbox is full)."""


@dataclass(frozen=True, slots=True)
class Mail:
    """One message: plain text and the same in HTML."""

    to: str
    subject: str
    text: str
    html: str


class MailTransport(Protocol):
    def deliver(self, message: EmailMessage) -> None:
        """Send one message (blocking; run on a worker thread)."""


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    timeout_s: float = 20.0

    def deliver(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
            if self.security == "tls"
            else smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        )
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


class LogTransport:
    """Development without SMTP: each message is logged, links included."""

    def deliver(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        log.warning(
            "email not sent: JACAMENO_SMTP_HOST is unset (development), here it is",
            to=message["To"],
            subject=message["Subject"],
            text=body.get_content() if body is not None else "",
        )


class Outbox:
    """Queues mail for a background sender (see :func:`open_outbox`)."""

    def __init__(self, sender: str, stream: MemoryObjectSendStream[EmailMessage] | None) -> None:
        self._sender = sender
        self._stream = stream

    @property
    def available(self) -> bool:
        return self._stream is not None

    def require(self) -> MemoryObjectSendStream[EmailMessage]:
        """Raise :class:`MailUnavailableError` unless email can be sent here."""
        if self._stream is None:
            raise MailUnavailableError(
                "this server cannot send email: set JACAMENO_SMTP_HOST (and its settings)"
            )
        return self._stream

    def send(self, mail: Mail) -> None:
        """Queue ``mail``; raise :class:`MailUnavailableError` when it cannot be sent."""
        stream = self.require()
        try:
            stream.send_nowait(self.message(mail))
        except anyio.WouldBlock:
            raise MailUnavailableError("too much email is waiting to be sent; try later") from None

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(self._sender)[1].rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message


def transport_for(settings: Settings) -> MailTransport | None:
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            password,
        )
    return None if settings.env is Environment.PRODUCTION else LogTransport()


@asynccontextmanager
async def open_outbox(
    settings: Settings, transport: MailTransport | None = None
) -> AsyncIterator[Outbox]:
    """An outbox whose sender runs until exit, then empties it (at most ``DRAIN_S``)."""
    transport = transport or transport_for(settings)
    if transport is None:
        yield Outbox(settings.mail_from, None)
        return
    send, receive = anyio.create_memory_object_stream[EmailMessage](OUTBOX_SIZE)
    drained = anyio.Event()

    async def sender() -> None:
        try:
            async with receive:
                async for message in receive:
                    await _deliver(transport, message)
        finally:
            drained.set()

    async with anyio.create_task_group() as group:
        group.start_soon(sender)
        try:
            yield Outbox(settings.mail_from, send)
        finally:
            send.close()
            with anyio.move_on_after(DRAIN_S, shield=True):
                await drained.wait()
            group.cancel_scope.cancel()


async def _deliver(transport: MailTransport, message: EmailMessage) -> None:
    delay = FIRST_RETRY_S
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await anyio.to_thread.run_sync(transport.deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("email not sent", to=message["To"], attempt=attempt, error=str(exc)[:300])
            if attempt == ATTEMPTS:
                log.error("email dropped after retries", to=message["To"])
                return
            await anyio.sleep(delay)
            delay *= 2
        else:
            log.info("email sent", to=message["To"], subject=message["Subject"])
            return

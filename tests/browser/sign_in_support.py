"""What the browser sign-in tests run besides the server: the OpenID Provider from a
sync test, the SMTP inbox read as a person reads it, and the server's settings for them.

The provider (``oidc-provider`` in node), the GitHub stand-in and the SMTP server all
listen on loopback; `block_the_internet` keeps a context's pages there (the provider's
pages import a web font).
"""

from __future__ import annotations

import json
import queue
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from anyio.from_thread import start_blocking_portal
from playwright.sync_api import BrowserContext, Page

from tests.browser.support import SESSION_KEY
from tests.support.github_standin import GitHubStandIn
from tests.support.oidc_provider import OidcAccount, OidcProvider, oauth_callback_url
from tests.support.smtp import WAIT_S, Inbox

#: A browser the server names "Firefox on Windows" in the list of sessions.
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
_NOT_LOOPBACK = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


@contextmanager
def oidc_provider(
    base_url: str, name: str, accounts: Mapping[str, OidcAccount]
) -> Iterator[OidcProvider]:
    """`OidcProvider` (async) run from sync code, with the callback of the application at
    ``base_url`` for the provider ``name`` registered, until the block exits."""
    provider = OidcProvider(redirect_uris=[oauth_callback_url(base_url, name)], accounts=accounts)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(provider) as running,
    ):
        yield running


def sign_in_env(
    *, oidc_name: str, oidc_label: str, oidc: OidcProvider, github: GitHubStandIn, inbox: Inbox
) -> dict[str, str]:
    """``jacameno serve`` settings: the OpenID Provider, GitHub and email to `inbox`."""
    provider = {
        "name": oidc_name,
        "label": oidc_label,
        "issuer": oidc.issuer,
        "client_id": oidc.client_id,
        "client_secret": oidc.client_secret,
    }
    return {
        "JACAMENO_OIDC_PROVIDERS": json.dumps([provider]),
        "JACAMENO_GITHUB_CLIENT_ID": github.client_id,
        "JACAMENO_GITHUB_CLIENT_SECRET": github.client_secret,
        "JACAMENO_GITHUB_URL": github.url,
        "JACAMENO_GITHUB_API_URL": github.api_url,
        "JACAMENO_SMTP_HOST": inbox.host,
        "JACAMENO_SMTP_PORT": str(inbox.port),
        "JACAMENO_SMTP_SECURITY": "none",
    }


class Mailbox:
    """The SMTP inbox read from a sync test: wait for the message to an address with a
    subject; the other messages stay unread for later waits."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._unread: list[EmailMessage] = []

    def wait_for(self, to: str, subject: str, timeout_s: float = WAIT_S) -> EmailMessage:
        """The first message to ``to`` whose subject contains ``subject``."""
        deadline = time.monotonic() + timeout_s
        while True:
            for message in self._unread:
                if _matches(message, to, subject):
                    self._unread.remove(message)
                    return message
            try:
                message = self.inbox.next_blocking(max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                seen = [(m["To"], m["Subject"]) for m in self._unread]
                raise AssertionError(
                    f"no email to {to} about {subject!r} in {timeout_s:.0f} s; unread: {seen}"
                ) from None
            self._unread.append(message)


def _matches(message: EmailMessage, to: str, subject: str) -> bool:
    return to.lower() in str(message["To"]).lower() and subject in str(message["Subject"])


def block_the_internet(context: BrowserContext) -> None:
    """Requests to anything but loopback fail at once: the test reaches no one else."""
    context.route(_NOT_LOOPBACK, lambda route: route.abort())


def stored_session(page: Page) -> dict[str, Any]:
    """The client's ``jacameno.session`` entry (its tokens) in ``page``'s storage."""
    text = page.evaluate(f"window.localStorage.getItem({SESSION_KEY!r})")
    assert text, "the page holds no session"
    session: dict[str, Any] = json.loads(text)
    return session

"""Account email through a real SMTP server on loopback: verification, password reset,
password change, notices; links work once, expire, and die with a newer one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import update

from jacameno.api.db import Database
from jacameno.api.db.models import OneTimeToken, utcnow
from tests.support.api_client import DEFAULT_PASSWORD, Account, ApiClient
from tests.support.smtp import Inbox, html_of, link_in, text_of, token_in

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def mailed(start_api: Callable[..., Any], inbox: Inbox) -> AsyncIterator[ApiClient]:
    async with start_api(**inbox.settings) as (_server, client):
        yield client


async def _expire_links(db_url: str) -> None:
    database = Database(db_url)
    try:
        async with database.session() as session:
            await session.execute(update(OneTimeToken).values(expires_at=utcnow()))
    finally:
        await database.aclose()


async def test_signing_up_emails_a_verification_link_that_works_once(
    mailed: ApiClient, inbox: Inbox
) -> None:
    account = await mailed.signup("Grace@Example.com", display_name="Grace")
    message = await inbox.next()
    assert message["To"] == "grace@example.com"
    assert "Confirm your email address" in message["Subject"]
    link = link_in(message)
    assert link.startswith(f"{mailed.http.base_url}/verify-email#token=".replace("//", "//", 1))
    assert "Hello Grace" in text_of(message)
    assert link.replace("&", "&amp;") in html_of(message)

    verified = await mailed.call(
        "POST", "/api/v1/auth/email/verify", json={"token": token_in(message)}
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["email_verified"] is True
    again = await mailed.call(
        "POST", "/api/v1/auth/email/verify", json={"token": token_in(message)}
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_link"
    me = await mailed.call("GET", "/api/v1/me", account.access_token)
    assert me.json()["user"]["email_verified"] is True
    resend = await mailed.call("POST", "/api/v1/me/email/verification", account.access_token)
    assert resend.status_code == 409


async def test_a_resent_link_replaces_the_first_and_links_expire(
    mailed: ApiClient, inbox: Inbox, db_url: str
) -> None:
    account = await mailed.signup()
    first = token_in(await inbox.next())
    resent = await mailed.call("POST", "/api/v1/me/email/verification", account.access_token)
    assert resent.status_code == 202
    second = token_in(await inbox.next())
    old = await mailed.call("POST", "/api/v1/auth/email/verify", json={"token": first})
    assert old.status_code == 400
    assert "replaced" in old.json()["error"]["message"]
    await _expire_links(db_url)
    late = await mailed.call("POST", "/api/v1/auth/email/verify", json={"token": second})
    assert late.status_code == 400
    assert "expired" in late.json()["error"]["message"]


async def test_a_forgotten_password_is_reset_once_and_every_session_ends(
    mailed: ApiClient, inbox: Inbox
) -> None:
    account = await mailed.signup()
    await inbox.next()  # the verification
    other = await mailed.call(
        "POST", "/api/v1/auth/login", json={"email": account.email, "password": DEFAULT_PASSWORD}
    )
    forgot = await mailed.call(
        "POST", "/api/v1/auth/password/forgot", json={"email": account.email.upper()}
    )
    assert forgot.status_code == 202
    message = await inbox.next()
    assert "Reset your password" in message["Subject"]
    assert "/reset-password#token=" in link_in(message)
    token = token_in(message)

    short = await mailed.call(
        "POST", "/api/v1/auth/password/reset", json={"token": token, "password": "short"}
    )
    assert short.status_code == 422  # refused before the link is spent
    reset = await mailed.call(
        "POST", "/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["user"]["email_verified"] is True  # the link proved the address
    replay = await mailed.call(
        "POST", "/api/v1/auth/password/reset", json={"token": token, "password": "x" * 12}
    )
    assert replay.status_code == 400

    notice = await inbox.next()
    assert "password was reset" in text_of(notice)
    assert "python-httpx" not in notice["Subject"]
    for stale in (account.access_token, other.json()["access_token"]):
        assert (await mailed.call("GET", "/api/v1/me", stale)).status_code == 401
    old_refresh = await mailed.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert old_refresh.status_code == 401
    old_login = await mailed.call(
        "POST", "/api/v1/auth/login", json={"email": account.email, "password": DEFAULT_PASSWORD}
    )
    assert old_login.status_code == 401
    new_login = await mailed.call(
        "POST", "/api/v1/auth/login", json={"email": account.email, "password": NEW_PASSWORD}
    )
    assert new_login.status_code == 200
    assert (await mailed.call("GET", "/api/v1/me", reset.json()["access_token"])).status_code == 200


async def test_a_newer_reset_link_kills_the_older_and_unknown_addresses_get_no_mail(
    mailed: ApiClient, inbox: Inbox
) -> None:
    account = await mailed.signup()
    await inbox.next()
    unknown = await mailed.call(
        "POST", "/api/v1/auth/password/forgot", json={"email": "nobody@example.com"}
    )
    assert unknown.status_code == 202
    assert unknown.json() == {"sent": True}
    for _ in range(2):
        sent = await mailed.call(
            "POST", "/api/v1/auth/password/forgot", json={"email": account.email}
        )
        assert sent.status_code == 202
    first, second = token_in(await inbox.next()), token_in(await inbox.next())
    assert inbox.empty()  # nothing went to nobody@example.com
    stale = await mailed.call(
        "POST", "/api/v1/auth/password/reset", json={"token": first, "password": NEW_PASSWORD}
    )
    assert stale.status_code == 400
    fresh = await mailed.call(
        "POST", "/api/v1/auth/password/reset", json={"token": second, "password": NEW_PASSWORD}
    )
    assert fresh.status_code == 200


async def test_changing_the_password_needs_the_current_one_and_sends_a_notice(
    mailed: ApiClient, inbox: Inbox
) -> None:
    account: Account = await mailed.signup()
    await inbox.next()
    wrong = await mailed.call(
        "POST",
        "/api/v1/me/password",
        account.access_token,
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    changed = await mailed.call(
        "POST",
        "/api/v1/me/password",
        account.access_token,
        headers={"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"},
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    notice = await inbox.next()
    assert notice["Subject"] == "Security notice: Your password was changed"
    assert "Chrome on Linux, this computer, 127.0.0.1" in text_of(notice)
    assert (await mailed.call("GET", "/api/v1/me", account.access_token)).status_code == 401
    assert (
        await mailed.call("GET", "/api/v1/me", changed.json()["access_token"])
    ).status_code == 200


async def test_without_smtp_production_refuses_and_development_logs(
    start_api: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    async with start_api(env="production", secret_key="p" * 48) as (_server, client):
        account = await client.signup()  # signing up still works; the link can be resent
        forgot = await client.call(
            "POST", "/api/v1/auth/password/forgot", json={"email": account.email}
        )
        assert forgot.status_code == 503
        assert "JACAMENO_SMTP_HOST" in forgot.json()["error"]["message"]
        unknown = await client.call(
            "POST", "/api/v1/auth/password/forgot", json={"email": "nobody@example.com"}
        )
        assert unknown.status_code == 503  # the same answer: no way to tell who has an account
    async with start_api() as (_server, client):
        await client.signup("logged@example.com")
    logged = [
        r.getMessage() for r in caplog.records if "JACAMENO_SMTP_HOST is unset" in r.getMessage()
    ]
    assert any("logged@example.com" in line and "/verify-email#token=" in line for line in logged)


async def test_a_busy_mail_server_gets_the_message_on_a_later_attempt(
    mailed: ApiClient, inbox: Inbox
) -> None:
    inbox.refuse = 1
    account = await mailed.signup()  # answers at once: the outbox sends in the background
    message = await inbox.next()
    assert message["To"] == account.email
    assert inbox.refused == 1

"""Issue 17 in the browser: sign up with an OpenID Connect provider, link GitHub, reset a
forgotten password from an emailed link, and end a stolen session.

This module runs its own ``jacameno serve`` (module scope, overriding the package's
``server``): it signs in with the certified ``oidc-provider`` in node (whose client has
the server's callback registered, so the server's port is chosen first), links the
GitHub stand-in, and emails through an SMTP server on loopback that the tests read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ContextFactory, ServerProcess, serve_jacameno
from tests.browser.sign_in_support import (
    FIREFOX_ON_WINDOWS,
    Mailbox,
    block_the_internet,
    oidc_provider,
    sign_in_env,
    stored_session,
)
from tests.browser.support import Api, screenshots
from tests.conftest import service_missing
from tests.support.app_server import free_port, serve_asgi_in_thread
from tests.support.github_standin import GitHubStandIn
from tests.support.oidc_provider import OidcAccount, oidc_provider_unavailable_reason
from tests.support.smtp import link_in, smtp_server, text_of

IDP = "idp"
IDP_LABEL = "Test ID"
# The signup checks refuse the reserved example.test: the provider says example.com.
MIA = OidcAccount(email="mia@example.com", email_verified=True, name="Mia")
NEW_PASSWORD = "a new and longer password"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as inbox:
        yield Mailbox(inbox)


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    standin = GitHubStandIn()
    port = free_port()
    with serve_asgi_in_thread(standin.app, port, lifespan="off"):
        standin.url = f"http://127.0.0.1:{port}"
        yield standin


@pytest.fixture(scope="module")
def server(
    web_dist: Path,
    tmp_path_factory: pytest.TempPathFactory,
    mailbox: Mailbox,
    github: GitHubStandIn,
) -> Iterator[ServerProcess]:
    """``jacameno serve`` with the OpenID Provider, GitHub and email configured."""
    reason = oidc_provider_unavailable_reason()
    if reason is not None:
        service_missing(f"the Node OpenID Provider cannot run: {reason}")
    port = free_port()
    with oidc_provider(f"http://127.0.0.1:{port}", IDP, {"mia": MIA}) as provider:
        env = sign_in_env(
            oidc_name=IDP, oidc_label=IDP_LABEL, oidc=provider, github=github, inbox=mailbox.inbox
        )
        workdir = tmp_path_factory.mktemp("sign-in-server")
        with serve_jacameno(web_dist, workdir, port=port, env=env) as running:
            yield running


def _page(context: BrowserContext) -> Page:
    block_the_internet(context)
    return context.new_page()


def _expect_projects_page(page: Page, server: ServerProcess) -> None:
    expect(page.get_by_role("link", name="Your account")).to_be_visible()
    expect(page).to_have_url(f"{server.base_url}/")


def test_sign_up_with_a_provider_then_link_github(
    new_context: ContextFactory, server: ServerProcess, mailbox: Mailbox, github: GitHubStandIn
) -> None:
    page = _page(new_context(label="mia"))
    page.goto("/login")
    provider_button = page.get_by_role("button", name=f"Continue with {IDP_LABEL}")
    expect(provider_button).to_be_visible()
    expect(page.get_by_role("button", name="Continue with GitHub")).to_be_visible()
    screenshots(page, "sign-in-providers")

    # At the provider: its development login page, then its consent page.
    provider_button.click()
    page.locator("input[name=login]").fill("mia")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue", exact=True).click()
    # Back through /auth/done#handoff=…: signed up and in, on the projects page.
    _expect_projects_page(page, server)

    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    address = page.get_by_role("region", name="Email address")
    expect(address).to_contain_text(MIA.email or "")
    expect(address.locator(".badge")).to_have_text("Confirmed")
    methods = page.get_by_role("region", name="Ways to sign in")
    expect(methods.get_by_test_id(f"identity-{IDP}")).to_contain_text(IDP_LABEL)
    expect(methods).to_contain_text("No password set")
    here = page.get_by_role("region", name="Where you are signed in")
    expect(here.get_by_role("listitem")).to_have_count(1)
    expect(here.get_by_role("listitem")).to_contain_text("This device")
    expect(here.get_by_role("listitem")).to_contain_text(f"signed in with {IDP_LABEL}")

    # Link GitHub: the stand-in approves at once and sends the browser back to /account.
    methods.get_by_role("button", name="Link GitHub", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="GitHub is linked")).to_have_text(
        "GitHub is linked to your account: you can sign in with it."
    )
    expect(page).to_have_url(f"{server.base_url}/account")
    expect(methods.get_by_role("button", name="Unlink GitHub", exact=True)).to_be_visible()
    expect(methods.get_by_test_id("identity-github")).to_contain_text("GitHub")
    expect(methods.get_by_role("button", name=f"Unlink {IDP_LABEL}", exact=True)).to_be_visible()
    screenshots(page, "account-providers", full_page=True)
    assert len(github.requests_to("/login/oauth/access_token")) == 1

    notice = mailbox.wait_for(MIA.email or "", "GitHub was linked")
    assert "GitHub was linked as a way to sign in on your account" in text_of(notice)
    assert "Chrome on Linux" in text_of(notice)


def test_reset_a_forgotten_password_then_end_a_stolen_session(
    new_context: ContextFactory, api: Api, server: ServerProcess, mailbox: Mailbox
) -> None:
    ray = api.signup("ray", "Ray")

    # Ray forgot the password: the link comes by email.
    owner = _page(new_context(label="ray"))
    owner.goto("/login")
    owner.get_by_role("link", name="Forgot password?").click()
    expect(owner.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    owner.get_by_label("Email").fill(ray.email)
    owner.get_by_role("button", name="Send reset link").click()
    expect(owner.get_by_role("status")).to_have_text(
        f"If an account exists, a link is on its way to {ray.email}."
    )
    screenshots(owner, "forgot-password-sent")
    link = link_in(mailbox.wait_for(ray.email, "Reset your password"))
    assert link.startswith(f"{server.base_url}/reset-password#token="), link

    owner.goto(link)
    expect(owner.get_by_role("heading", name="Set a new password")).to_be_visible()
    # The token leaves the address bar at once.
    expect(owner).to_have_url(f"{server.base_url}/reset-password")
    owner.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    owner.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    screenshots(owner, "reset-password")
    owner.get_by_role("button", name="Set new password").click()
    _expect_projects_page(owner, server)
    notice = mailbox.wait_for(ray.email, "Your password was reset")
    assert "Your password was reset from an emailed link" in text_of(notice)
    # The old password and the session signup made are over.
    assert api.http.get("/api/v1/me", headers=ray.headers).status_code == 401
    old = api.http.post("/api/v1/auth/login", json={"email": ray.email, "password": ray.password})
    assert old.status_code == 401, old.text

    # Someone with the new password signs in from Firefox on Windows.
    thief = _page(new_context(label="thief", user_agent=FIREFOX_ON_WINDOWS))
    thief.goto("/login")
    thief.get_by_label("Email").fill(ray.email)
    thief.get_by_label("Password").fill(NEW_PASSWORD)
    thief.get_by_role("button", name="Sign in", exact=True).click()
    _expect_projects_page(thief, server)
    stolen = stored_session(thief)

    # Ray sees both sessions and ends the one Ray does not know.
    owner.get_by_role("link", name="Your account").click()
    here = owner.get_by_role("region", name="Where you are signed in")
    sessions = here.get_by_role("listitem")
    expect(sessions).to_have_count(2)
    mine = sessions.filter(has_text="This device")
    expect(mine).to_contain_text("Chrome on Linux")
    expect(mine).to_contain_text("signed in with a password reset link")
    theirs = sessions.filter(has_text="Firefox on Windows")
    expect(theirs).to_contain_text("signed in with a password")
    expect(theirs.get_by_role("button", name="Sign out")).to_have_count(0)
    screenshots(owner, "account-sessions", full_page=True)
    here.get_by_role("button", name="End session on Firefox on Windows").click()
    expect(here.get_by_role("status")).to_have_text("Signed out Firefox on Windows.")
    expect(sessions).to_have_count(1)
    expect(mine).to_be_visible()

    # The thief is out: the tokens fail, and the page asks to sign in.
    bearer = {"authorization": f"Bearer {stolen['accessToken']}"}
    assert api.http.get("/api/v1/me", headers=bearer).status_code == 401
    refreshed = api.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": stolen["refreshToken"]}
    )
    assert refreshed.status_code == 401, refreshed.text
    thief.reload()
    expect(thief.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(thief).to_have_url(re.compile(r"/login$"))
    # Ray's own session goes on.
    own = {"authorization": f"Bearer {stored_session(owner)['accessToken']}"}
    assert api.http.get("/api/v1/me", headers=own).status_code == 200

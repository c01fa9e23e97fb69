"""Accounts and the project list in the browser: sign-up, sign-in, create, search, members."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import ContextFactory
from tests.browser.support import PASSWORD, SESSION_KEY, Api, screenshots, unique_email


def _token_of(page: Page) -> str:
    session = json.loads(page.evaluate(f"window.localStorage.getItem({SESSION_KEY!r})"))
    token: str = session["accessToken"]
    return token


def test_sign_up_create_project_with_tempo_key_and_metre_then_search(
    new_context: ContextFactory, api: Api
) -> None:
    page = new_context(label="newcomer").new_page()
    page.goto("/")
    # Signed out: the app sends the visitor to the sign-in page.
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()

    email = unique_email("newcomer")
    page.get_by_label("Your name").fill("Nadia Newcomer")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    expect(page.get_by_text("No projects yet")).to_be_visible()

    title = f"Waltz {uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="New project")
    form.get_by_label("Name").fill(title)
    form.get_by_label("Tempo (BPM)").fill("96")
    form.get_by_label("Key").select_option("A minor")
    form.get_by_label("Time signature").select_option("3/4")
    form.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(re.compile(r"/projects/[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(page.get_by_role("status", name="Sync status")).to_have_text(re.compile("Synced"))
    expect(page).to_have_title(f"{title} · JACAMENO")
    # (\W for the slash: Playwright does not escape "/" in a role-name pattern)
    settings = re.compile(r"^Song settings: 96 BPM\W+A minor\W+3\W4$")
    expect(page.get_by_role("button", name=settings)).to_be_visible()
    screenshots(page, "studio-new-project")

    # The document carries what the form chose (what every peer and job reads).
    project_id = page.url.rstrip("/").rsplit("/", 1)[1]
    token = _token_of(page)
    doc = api.http.get(
        f"/api/v1/projects/{project_id}/document", headers={"authorization": f"Bearer {token}"}
    ).json()
    meta = doc["document"]["meta"]
    assert meta["bpm"] == 96
    assert meta["key"] == "A minor"
    assert meta["time_signature"] == "3/4"
    assert meta["title"] == title

    # Back on the list, a second project; search finds each by its name.
    other = f"Ballad {uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="Projects").click()
    form = page.get_by_role("form", name="New project")
    expect(form).to_be_visible()
    api.http.post(
        "/api/v1/projects", json={"name": other}, headers={"authorization": f"Bearer {token}"}
    ).raise_for_status()
    page.reload()
    projects = page.get_by_role("region", name="Your projects")
    expect(projects.get_by_role("link")).to_have_count(2)

    search = page.get_by_role("searchbox", name="Search projects")
    search.fill("waltz")
    expect(projects.get_by_role("link")).to_have_count(1)
    expect(projects.get_by_role("link", name=title)).to_be_visible()
    search.fill("ballad")
    expect(projects.get_by_role("link")).to_have_count(1)
    expect(projects.get_by_role("link", name=other)).to_be_visible()
    search.fill("no such song")
    expect(page.get_by_text("No project matches.")).to_be_visible()
    search.fill("")
    expect(projects.get_by_role("link")).to_have_count(2)

    projects.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def test_sign_in_and_out(new_context: ContextFactory, api: Api) -> None:
    user = api.signup("returning")
    page = new_context(label="returning").new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("heading", name="Your projects")).to_have_count(0)

    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    expect(page.get_by_text(user.name)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate(f"window.localStorage.getItem({SESSION_KEY!r})") is None


def test_sign_in_returns_to_the_page_asked_for(new_context: ContextFactory, api: Api) -> None:
    user = api.signup("deep-link")
    project = api.create_project(user, "Deep link song")
    page = new_context(label="deep-link").new_page()
    page.goto(f"/projects/{project['id']}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}$"))
    expect(page.get_by_role("heading", level=1, name="Deep link song")).to_be_visible()


def _open_members(page: Page) -> None:
    page.get_by_role("tab", name="Members").click()
    expect(page.get_by_role("tab", name="Members")).to_have_attribute("aria-selected", "true")


def test_owner_invites_a_member_who_joins_from_the_project_list(
    new_context: ContextFactory, api: Api
) -> None:
    owner = api.signup("owner", "Olga Owner")
    guest = api.signup("guest", "Gus Guest")
    project = api.create_project(owner, "Shared song")

    owner_page = new_context(owner).new_page()
    owner_page.goto(f"/projects/{project['id']}")
    expect(owner_page.get_by_role("status", name="Sync status")).to_have_text(re.compile("Synced"))
    _open_members(owner_page)
    members = owner_page.get_by_role("region", name="Members")
    expect(members.get_by_text("Olga Owner")).to_be_visible()
    members.get_by_label("Invite by email").fill(guest.email)
    members.get_by_label("Invite as").select_option("viewer")
    members.get_by_role("button", name="Send invite").click()
    expect(members.get_by_role("status")).to_have_text(f"Invited {guest.email} as viewer.")
    expect(members.get_by_text(f"{guest.email} as viewer", exact=True)).to_be_visible()

    guest_page = new_context(guest).new_page()
    guest_page.goto("/")
    invitations = guest_page.get_by_role("region", name="Invitations")
    expect(invitations.get_by_text("Shared song", exact=True)).to_be_visible()
    invitations.get_by_role("button", name="Join Shared song").click()
    expect(guest_page).to_have_url(re.compile(rf"/projects/{project['id']}$"))
    expect(guest_page.get_by_role("note")).to_have_text(re.compile("You are a viewer"))

    # The owner promotes the viewer to editor: the notice goes once the page knows.
    owner_page.reload()
    _open_members(owner_page)
    members = owner_page.get_by_role("region", name="Members")
    members.get_by_label("Role of Gus Guest").select_option("editor")
    expect(members.get_by_role("status")).to_have_text("Gus Guest is now editor.")
    guest_page.reload()
    expect(guest_page.get_by_role("status", name="Sync status")).to_have_text(re.compile("Synced"))
    expect(guest_page.get_by_role("note")).to_have_count(0)

    # ...and removes them: the member list no longer has them.
    members.get_by_role("button", name="Remove Gus Guest").click()
    expect(members.get_by_role("status")).to_have_text("Removed Gus Guest.")
    expect(members.get_by_text(guest.email)).to_have_count(0)


def test_the_viewer_notice_and_no_upload_for_viewers(new_context: ContextFactory, api: Api) -> None:
    owner = api.signup("owner")
    viewer = api.signup("viewer", "Vera Viewer")
    project = api.create_project(owner, "Listen only")
    api.add_member(owner, project["id"], viewer, "viewer")

    page = new_context(viewer).new_page()
    page.goto(f"/projects/{project['id']}")
    expect(page.get_by_role("status", name="Sync status")).to_have_text(re.compile("Synced"))
    expect(page.get_by_role("note")).to_have_text(
        "You are a viewer: you can see and hear everything, but not change it."
    )
    _open_members(page)
    members = page.get_by_role("region", name="Members")
    expect(members.get_by_text("Vera Viewer")).to_be_visible()
    # Viewers see roles but cannot invite, change roles or remove.
    expect(members.get_by_label("Invite by email")).to_have_count(0)
    expect(members.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)

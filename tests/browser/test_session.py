"""A session revoked while the studio is open: 4401, "Sign in again", the edit kept and sent."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import (
    PEER_TIMEOUT_MS,
    clips_of,
    expect_synced,
    open_studio,
    record_close_codes,
    sync_status,
    wait_for_close_code,
)
from tests.browser.support import SESSION_KEY, Api, screenshots, sine_wav


def test_revoked_session_asks_to_sign_in_again_and_keeps_the_edit(
    new_context: ContextFactory, api: Api
) -> None:
    alice, bob, project = api.shared_project("Session song")
    api.upload_wav(alice, project["id"], "Bass", sine_wav(1.5, 110.0))

    alice_context = new_context(alice)
    record_close_codes(alice_context)
    a = open_studio(alice_context, project["id"])
    b = open_studio(new_context(bob), project["id"])
    clip = clips_of(a, "Bass")
    start_label = clip.get_attribute("title")
    expect(clips_of(b, "Bass")).to_have_attribute("title", start_label or "")
    clip.focus()

    # Another client ends Alice's session with her tokens (as "sign out everywhere" would).
    session = json.loads(a.evaluate(f"window.localStorage.getItem({SESSION_KEY!r})"))
    api.logout(session["accessToken"], session["refreshToken"])

    wait_for_close_code(a, 4401)
    dialog = a.get_by_role("dialog", name="Sign in again")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("your edits are kept on this device")
    expect(sync_status(a)).to_have_text(re.compile("Not connected"))

    # The dialog takes the focus (its email field); an edit made behind it while signed
    # out is kept here, not sent.
    expect(dialog.get_by_label("Email")).to_be_focused()
    clip.focus()
    expect(clip).to_be_focused()
    clip.press("ArrowRight")
    expect(clip).not_to_have_attribute("title", start_label or "")
    moved = clip.get_attribute("title")
    expect(sync_status(a)).to_have_text(re.compile(r"Not connected · 1 change waiting"))
    screenshots(a, "studio-sign-in-again")
    expect(clips_of(b, "Bass")).to_have_attribute("title", start_label or "")

    # Signing in again in the dialog resumes sync; Bob gets the edit.
    dialog.get_by_label("Email").fill(alice.email)
    dialog.get_by_label("Password").fill(alice.password)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_have_count(0)
    expect_synced(a)
    expect(clips_of(b, "Bass")).to_have_attribute("title", moved or "", timeout=PEER_TIMEOUT_MS)
    fresh = json.loads(a.evaluate(f"window.localStorage.getItem({SESSION_KEY!r})"))
    assert fresh["refreshToken"] != session["refreshToken"]

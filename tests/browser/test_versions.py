"""Named versions: save one, change the song, restore it; both people get the restored song."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import (
    PEER_TIMEOUT_MS,
    add_track_button,
    lyrics_editor,
    open_studio,
    tab,
    track_header,
)
from tests.browser.support import Api, screenshots


def test_restore_a_named_version_for_everyone(new_context: ContextFactory, api: Api) -> None:
    alice, bob, project = api.shared_project("Versioned song")

    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])

    lyrics = lyrics_editor(a)
    lyrics.click()
    lyrics.press_sequentially("first draft")
    expect(lyrics_editor(b)).to_contain_text("first draft", timeout=PEER_TIMEOUT_MS)

    versions = tab(a, "Versions")
    versions.get_by_label("Version name").fill("First draft")
    versions.get_by_role("button", name="Save version").click()
    saved = versions.get_by_role("list", name="Versions, newest first")
    expect(saved.get_by_role("listitem").filter(has_text="First draft")).to_have_count(1)

    # The song moves on: a new track and another line.
    add_track_button(a).click()
    expect(track_header(b, "Track 1")).to_be_visible(timeout=PEER_TIMEOUT_MS)
    lyrics = lyrics_editor(a)
    lyrics.click()
    lyrics.press("End")
    lyrics.press_sequentially(", second take")
    expect(lyrics_editor(b)).to_contain_text("second take", timeout=PEER_TIMEOUT_MS)

    versions = tab(a, "Versions")
    saved = versions.get_by_role("list", name="Versions, newest first")
    saved.get_by_role("button", name="Restore First draft").click()
    versions.get_by_role("group", name="Restore First draft?").get_by_role(
        "button", name="Confirm restore"
    ).click()
    expect(versions.get_by_text("Restored “First draft”.")).to_be_visible()

    # Both screens have the restored song: no new track, the first line only.
    for page in (a, b):
        expect(track_header(page, "Track 1")).to_have_count(0, timeout=PEER_TIMEOUT_MS)
        editor = lyrics_editor(page)
        expect(editor).to_contain_text("first draft", timeout=PEER_TIMEOUT_MS)
        expect(editor).not_to_contain_text("second take", timeout=PEER_TIMEOUT_MS)
    screenshots(a, "studio-versions")

    # Bob's list has the named version and the automatic backup taken before the restore.
    bob_versions = tab(b, "Versions").get_by_role("list", name="Versions, newest first")
    expect(bob_versions.get_by_role("listitem").filter(has_text="First draft")).not_to_have_count(0)
    doc = api.document(bob, project["id"])["document"]
    assert doc["tracks"] == []
    assert doc["lyrics"] == "first draft"

"""Offline: edits wait on the device, the studio reopens from the service worker's cache, and
both people converge when the network is back."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import (
    PEER_TIMEOUT_MS,
    add_track_button,
    expect_synced,
    lyrics_editor,
    open_studio,
    sync_status,
    track_header,
    wait_for_service_worker,
)
from tests.browser.support import Api, screenshots


def test_offline_edits_survive_a_reload_and_converge(new_context: ContextFactory, api: Api) -> None:
    alice, bob, project = api.shared_project("Offline song")

    alice_context = new_context(alice)
    a = open_studio(alice_context, project["id"])
    b = open_studio(new_context(bob), project["id"])
    # The first online load installed the service worker (the app shell is precached).
    wait_for_service_worker(a)

    alice_context.set_offline(True)
    expect(sync_status(a)).to_have_text(re.compile(r"^\W*Offline"))

    # Alice adds and names a track and writes a line, with no network.
    add_track_button(a).click()
    name = track_header(a, "Track 1").get_by_role("textbox", name="Name of track Track 1")
    name.fill("Written on the train")
    name.press("Enter")
    expect(track_header(a, "Written on the train")).to_be_visible()
    lyrics = lyrics_editor(a)
    lyrics.click()
    lyrics.press_sequentially("offline verse")
    expect(sync_status(a)).to_have_text(re.compile(r"Offline · \d+ changes? waiting"))

    # Meanwhile Bob, online, adds his own line.
    bob_lyrics = lyrics_editor(b)
    bob_lyrics.click()
    bob_lyrics.press_sequentially("online chorus ")

    # A reload with no network: the service worker serves the app, IndexedDB the document.
    a.reload()
    expect(a.get_by_role("heading", level=1, name="Offline song")).to_be_visible()
    expect(sync_status(a)).to_have_text(re.compile(r"Offline · \d+ changes? waiting"))
    expect(track_header(a, "Written on the train")).to_be_visible()
    expect(lyrics_editor(a)).to_contain_text("offline verse")
    screenshots(a, "studio-offline")
    expect(track_header(b, "Written on the train")).to_have_count(0)

    alice_context.set_offline(False)
    expect_synced(a, timeout_ms=20_000)
    expect(track_header(b, "Written on the train")).to_be_visible(timeout=PEER_TIMEOUT_MS)
    for page in (a, b):
        editor = lyrics_editor(page)
        expect(editor).to_contain_text("offline verse", timeout=PEER_TIMEOUT_MS)
        expect(editor).to_contain_text("online chorus", timeout=PEER_TIMEOUT_MS)
    doc = api.document(bob, project["id"])["document"]
    assert "offline verse" in doc["lyrics"]
    assert "online chorus" in doc["lyrics"]
    assert [t["name"] for t in doc["tracks"]] == ["Written on the train"]

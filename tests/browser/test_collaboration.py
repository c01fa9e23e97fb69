"""Two people in one project: each sees the other's edits at once; a viewer changes nothing."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import (
    LATENCY_BUDGET_S,
    PEER_TIMEOUT_MS,
    add_track_button,
    clips_of,
    lyrics_editor,
    lyrics_update,
    open_studio,
    seconds_until,
    send_raw_update,
    track_header,
)
from tests.browser.support import Api, screenshots, sine_wav


def test_two_editors_see_each_others_track_clip_move_and_lyrics(
    new_context: ContextFactory, api: Api
) -> None:
    alice, bob, project = api.shared_project("Duet", bpm=120)
    api.upload_wav(alice, project["id"], "Guitar", sine_wav(2.0))

    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])
    expect(clips_of(a, "Guitar")).to_have_count(1)
    expect(clips_of(b, "Guitar")).to_have_count(1)

    # A new track from Alice shows on Bob's screen.
    add_track_button(a).click()
    latency = seconds_until(
        lambda: expect(track_header(b, "Track 2")).to_be_visible(timeout=PEER_TIMEOUT_MS)
    )
    print(f"Bob saw Alice's new track after {latency:.3f} s")
    assert latency < LATENCY_BUDGET_S, f"Bob saw Alice's new track after {latency:.2f} s"

    # Bob moves the clip from the keyboard; Alice sees it at the same place.
    clip = clips_of(b, "Guitar")
    before = clip.get_attribute("title")
    clip.focus()
    clip.press("ArrowRight")
    expect(clip).not_to_have_attribute("title", before or "")
    moved = clip.get_attribute("title")
    assert moved
    assert moved != before
    latency = seconds_until(
        lambda: expect(clips_of(a, "Guitar")).to_have_attribute(
            "title", moved, timeout=PEER_TIMEOUT_MS
        )
    )
    print(f"Alice saw Bob's clip move after {latency:.3f} s")
    assert latency < LATENCY_BUDGET_S, f"Alice saw Bob's clip move after {latency:.2f} s"

    # Lyrics typed by Alice appear in Bob's editor.
    alice_lyrics = lyrics_editor(a)
    bob_lyrics = lyrics_editor(b)
    alice_lyrics.click()
    alice_lyrics.press_sequentially("Two voices, one song")
    latency = seconds_until(
        lambda: expect(bob_lyrics).to_have_text(
            re.compile("Two voices, one song"), timeout=PEER_TIMEOUT_MS
        )
    )
    print(f"Bob saw Alice's lyrics after {latency:.3f} s")
    assert latency < LATENCY_BUDGET_S, f"Bob saw Alice's lyrics after {latency:.2f} s"

    # The server holds what both see.
    doc = api.document(alice, project["id"])["document"]
    assert "Two voices, one song" in doc["lyrics"]
    names = sorted(track["name"] for track in doc["tracks"])
    assert names == ["Guitar", "Track 2"]
    guitar = next(t for t in doc["tracks"] if t["name"] == "Guitar")
    (only_clip,) = guitar["clips"]
    assert only_clip["start_s"] > 0
    screenshots(a, "studio-two-editors")


def test_a_viewer_cannot_change_anything(new_context: ContextFactory, api: Api) -> None:
    owner, viewer, project = api.shared_project(
        "Look, don't touch", owner=("owner", "Olive"), member=("viewer", "Victor"), role="viewer"
    )
    api.upload_wav(owner, project["id"], "Piano", sine_wav(1.5))

    o = open_studio(new_context(owner), project["id"])
    v = open_studio(new_context(viewer), project["id"])
    expect(v.get_by_role("note")).to_have_text(re.compile("You are a viewer"))
    expect(clips_of(v, "Piano")).to_have_count(1)
    screenshots(v, "studio-viewer")

    # Every control that writes is disabled or absent.
    expect(add_track_button(v)).to_be_disabled()
    expect(v.get_by_role("button", name="Upload audio")).to_have_count(0)
    header = track_header(v, "Piano")
    expect(header.get_by_role("textbox", name="Name of track Piano")).to_be_disabled()
    for control in ("Mute Piano", "Solo Piano"):
        expect(header.get_by_role("button", name=control)).to_be_disabled()
    for control in ("Volume of Piano", "Pan of Piano"):
        expect(header.get_by_role("slider", name=control)).to_be_disabled()

    # The keyboard does not move the clip either.
    clip = clips_of(v, "Piano")
    label = clip.get_attribute("title")
    clip.focus()
    clip.press("ArrowRight")
    # The owner's edit after the key press arrives, so the key press had its chance.
    add_track_button(o).click()
    expect(track_header(v, "Track 2")).to_be_visible(timeout=PEER_TIMEOUT_MS)
    expect(clip).to_have_attribute("title", label or "")

    # The lyrics are read-only for the viewer; typing into them changes nothing anywhere.
    viewer_lyrics = lyrics_editor(v)
    owner_lyrics = lyrics_editor(o)
    expect(viewer_lyrics).to_have_attribute("aria-readonly", "true")
    viewer_lyrics.click()
    viewer_lyrics.press_sequentially("forced")
    owner_lyrics.click()
    owner_lyrics.press_sequentially("owner line")
    expect(viewer_lyrics).to_have_text(re.compile("owner line"), timeout=PEER_TIMEOUT_MS)
    expect(viewer_lyrics).not_to_contain_text("forced")
    expect(owner_lyrics).not_to_contain_text("forced")

    # A write forced past the client (a socket of the viewer's own) is refused too.
    send_raw_update(v, project["id"], viewer.access_token, lyrics_update("forced by hand "))
    owner_lyrics.press_sequentially(", second")
    expect(viewer_lyrics).to_contain_text("owner line, second", timeout=PEER_TIMEOUT_MS)
    expect(owner_lyrics).not_to_contain_text("forced")
    expect(viewer_lyrics).not_to_contain_text("forced")
    doc = api.document(owner, project["id"])["document"]
    assert doc["lyrics"] == "owner line, second"

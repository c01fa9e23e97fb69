"""Lyrics suggestions beside the editor, the analysis in it, and the AI memory page.

Alice asks for lines (the offline model, the server's default: the same lines for
the same seed); they appear in Bob's panel and, without Accept buttons, in a
viewer's. Alice accepts: the lines are her own edit in both editors (undoable), the
analysis letters them after the server's debounce, and her memory page lists them
until she forgets everything.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import PEER_TIMEOUT_MS, lyrics_editor, open_studio
from tests.browser.support import Api, User, screenshots
from tests.browser.test_accessibility import BLOCKING, _axe_violations

THEME = "a night drive home"
#: The analysis is written about a second after the last keystroke, then synced.
ANALYSIS_TIMEOUT_MS = 15_000


def lyrics_panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Suggestions and rewrites")


def suggestion(page: Page, theme: str = THEME) -> Locator:
    return lyrics_panel(page).get_by_role("article", name=f"Lines about {theme}")


def suggestions_in_document(api: Api, user: User, project_id: str) -> list[dict[str, Any]]:
    meta = api.document(user, project_id)["document"]["lyrics_meta"]
    entries: dict[str, dict[str, Any]] = meta.get("suggestions") or {}
    return sorted(entries.values(), key=lambda entry: -entry["created_at"])


def assert_accessible(page: Page, where: str) -> None:
    blocking = [v for v in _axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe found serious problems on {where}: {blocking}"


def memory(api: Api, user: User) -> dict[str, Any]:
    response = api.http.get("/api/v1/me/memory", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_suggest_accept_analyse_and_forget(new_context: ContextFactory, api: Api) -> None:
    alice, bob, project = api.shared_project("Night drive", owner=("alice", "Alice"))
    viewer = api.signup("vera", "Vera")
    api.add_member(alice, project["id"], viewer, "viewer")

    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])
    v = open_studio(new_context(viewer), project["id"])
    editor_a, editor_b, editor_v = lyrics_editor(a), lyrics_editor(b), lyrics_editor(v)

    # Alice asks for four ABAB lines.
    panel_a = lyrics_panel(a)
    panel_a.get_by_label("Theme").fill(THEME)
    panel_a.get_by_role("combobox", name=re.compile(r"^Rhyme scheme")).select_option("ABAB")
    panel_a.get_by_role("button", name="Suggest lines").click()
    expect(panel_a.get_by_role("status")).to_contain_text("4 lines (ABAB) added")
    (entry,) = suggestions_in_document(api, alice, project["id"])
    lines: list[str] = entry["lines"]
    assert len(lines) == 4
    assert entry["source"] == "offline"
    assert entry["rhyme_scheme"] == "ABAB"

    # Every peer sees it; only editors may accept it.
    for page in (a, b, v):
        card = suggestion(page)
        expect(card).to_be_visible(timeout=PEER_TIMEOUT_MS)
        expect(card.get_by_text("offline", exact=True)).to_be_visible()
        expect(
            card.get_by_role("list", name=f"Lines about {THEME}: lines").get_by_role("listitem")
        ).to_have_count(4)
        expect(card).to_contain_text(lines[0])
    expect(suggestion(b).get_by_role("button", name="Accept")).to_have_count(1)
    expect(suggestion(v).get_by_role("button", name="Accept")).to_have_count(0)
    expect(suggestion(v).get_by_role("button", name="Reject")).to_have_count(0)
    expect(lyrics_panel(v).get_by_role("button", name="Suggest lines")).to_have_count(0)

    # Alice accepts: the lines are in every editor, and the verdict in every panel.
    suggestion(a).get_by_role("button", name="Accept").click()
    for editor in (editor_a, editor_b, editor_v):
        for line in lines:
            expect(editor).to_contain_text(line, timeout=PEER_TIMEOUT_MS)
    expect(suggestion(b)).to_contain_text("Accepted", timeout=PEER_TIMEOUT_MS)
    expect(suggestion(b).get_by_role("button", name="Accept")).to_have_count(0)
    assert api.document(bob, project["id"])["document"]["lyrics"] == "\n".join(lines)

    # They are Alice's own edit: her undo takes them out everywhere, redo brings them back.
    editor_a.click()
    a.keyboard.press("Control+z")
    expect(editor_b).not_to_contain_text(lines[0], timeout=PEER_TIMEOUT_MS)
    a.keyboard.press("Control+y")
    expect(editor_b).to_contain_text(lines[0], timeout=PEER_TIMEOUT_MS)

    # The analysis letters each line at its end, on both screens, and sums it up.
    for editor in (editor_a, editor_b):
        figures = editor.get_by_role("img", name=re.compile(r"^Rhyme [A-Z]\b.*\d+ syllables?$"))
        expect(figures).to_have_count(4, timeout=ANALYSIS_TIMEOUT_MS)
    summary = a.get_by_role("region", name="Analysis")
    expect(summary).to_contain_text("Rhyme density")
    expect(summary).to_contain_text("Stanza 1")
    assert_accessible(a, "the lyrics tab with a suggestion and its analysis")
    screenshots(a, "studio-lyrics-suggestions")

    # A rewrite of the whole lyrics in a style reaches Bob, who turns it down.
    panel_a.get_by_role("combobox", name=re.compile(r"^Rewrite style")).select_option("country")
    panel_a.get_by_role("button", name="Rewrite the lyrics").click()
    rewrite_b = lyrics_panel(b).get_by_role("article", name="Rewrite in country")
    expect(rewrite_b).to_be_visible(timeout=PEER_TIMEOUT_MS)
    rewrite_b.get_by_role("button", name="Reject").click()
    expect(lyrics_panel(a).get_by_role("article", name="Rewrite in country")).to_contain_text(
        "Rejected", timeout=PEER_TIMEOUT_MS
    )
    (rewrite, _) = suggestions_in_document(api, alice, project["id"])
    assert rewrite["kind"] == "restyle"
    assert rewrite["verdict"] == "rejected"

    # A line edited since the analysis loses its figures at once.
    editor_a.click()
    a.keyboard.press("Control+End")
    a.keyboard.type(" again")
    expect(editor_a.get_by_role("img", name=re.compile(r"^Rhyme "))).to_have_count(
        3, timeout=PEER_TIMEOUT_MS
    )

    # Her memory page lists the accepted lines; "Forget everything" empties it.
    a.goto("/")
    a.get_by_role("link", name="Your AI memory").click()
    expect(a.get_by_role("heading", level=1, name="Your AI memory")).to_be_visible()
    kept = a.get_by_role("region", name=re.compile(r"^Lyrics \(\d+\)$"))
    for line in lines:
        expect(kept).to_contain_text(line)
    assert_accessible(a, "the AI memory page")
    screenshots(a, "memory-page")
    first = kept.get_by_role("listitem").filter(has_text=lines[0])
    first.get_by_role("button", name=re.compile(r"^Forget “")).click()
    expect(a.get_by_role("region", name="Lyrics (3)")).not_to_contain_text(lines[0])
    a.get_by_role("button", name="Forget everything").click()
    dialog = a.get_by_role("alertdialog", name="Forget everything?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Yes, forget everything").click()
    expect(a.get_by_text("Everything is forgotten.")).to_be_visible()
    expect(a.get_by_text("Nothing kept")).to_be_visible()
    assert memory(api, alice)["items"] == []

"""Presence and comments: who is here, a comment and its reply on both screens, resolved."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import PEER_TIMEOUT_MS, open_studio, tab
from tests.browser.support import Api


def test_presence_and_a_comment_thread(new_context: ContextFactory, api: Api) -> None:
    alice, bob, project = api.shared_project("Talk it over")

    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])

    people = a.get_by_role("list", name="People here")
    expect(people.get_by_role("listitem").filter(has_text="Alice (you)")).to_have_count(1)
    expect(people.get_by_role("listitem").filter(has_text="Bob")).to_have_count(
        1, timeout=PEER_TIMEOUT_MS
    )

    comments_a = tab(a, "Comments")
    comments_a.get_by_label("Comment", exact=True).fill("The bridge drags a little")
    comments_a.get_by_role("button", name="Add comment").click()

    comments_b = tab(b, "Comments")
    thread_b = comments_b.get_by_role("article", name="Comment by Alice")
    expect(thread_b).to_contain_text("The bridge drags a little", timeout=PEER_TIMEOUT_MS)
    thread_b.get_by_role("button", name="Reply").click()
    thread_b.get_by_label("Reply to Alice").fill("Try 4 BPM faster?")
    thread_b.get_by_role("button", name="Send reply").click()

    thread_a = comments_a.get_by_role("article", name="Comment by Alice")
    replies = thread_a.get_by_role("list", name="Replies to Alice")
    expect(replies).to_contain_text("Try 4 BPM faster?", timeout=PEER_TIMEOUT_MS)

    thread_a.get_by_role("button", name="Resolve").click()
    expect(comments_b.get_by_text("Every comment is resolved.")).to_be_visible(
        timeout=PEER_TIMEOUT_MS
    )
    comments_b.get_by_role("button", name="Show resolved (1)").click()
    resolved = comments_b.get_by_role("list", name="Resolved comments")
    expect(
        resolved.get_by_role("article", name=re.compile(r"^Comment by Alice.*, resolved$"))
    ).to_contain_text("The bridge drags a little")
    doc = api.document(bob, project["id"])["document"]
    (first, reply) = doc["comments"]
    assert first["text"] == "The bridge drags a little"
    assert first["resolved"] is True
    assert reply["reply_to"] == first["id"]

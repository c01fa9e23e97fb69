"""axe-core on the sign-in page, the project list and the studio: nothing serious or critical."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ContextFactory
from tests.browser.support import REPO_ROOT, Api, sine_wav

AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run make web (npm ci in web/)", pytrace=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self')
        # refuses an inline <script>, as it should.
        page.evaluate(AXE.read_text() + "\n;undefined")
    result: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const out = await window.axe.run(document, { resultTypes: ["violations"] });
            return out.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
            }));
        }"""
    )
    return result


def _check(page: Page, where: str, found: dict[str, list[dict[str, Any]]]) -> None:
    """Keep ``where``'s serious and critical violations (every page is checked, then reported)."""
    blocking = [v for v in _axe_violations(page) if v["impact"] in BLOCKING]
    if blocking:
        found[where] = blocking


def test_no_serious_accessibility_problems(new_context: ContextFactory, api: Api) -> None:
    user = api.signup("axe", "Alex Axe")
    project = api.create_project(user, "Accessible song", bpm=100, key="D minor")
    api.upload_wav(user, project["id"], "Guitar", sine_wav(1.0))

    found: dict[str, list[dict[str, Any]]] = {}
    anonymous = new_context(label="anonymous").new_page()
    anonymous.goto("/login")
    expect(anonymous.get_by_role("heading", name="Sign in")).to_be_visible()
    _check(anonymous, "the sign-in page", found)
    anonymous.goto("/signup")
    expect(anonymous.get_by_role("heading", name="Create your account")).to_be_visible()
    _check(anonymous, "the sign-up page", found)

    page = new_context(user).new_page()
    page.goto("/")
    expect(page.get_by_role("link", name="Accessible song")).to_be_visible()
    _check(page, "the project list", found)

    page.get_by_role("link", name="Accessible song").click()
    expect(page.get_by_role("status", name="Sync status")).to_have_text(re.compile("Synced"))
    expect(page.get_by_role("heading", level=1, name="Accessible song")).to_be_visible()
    _check(page, "the studio (lyrics tab)", found)
    for tab in ("Comments", "Mix & master", "Coaching", "Versions", "Members"):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("tabpanel", name=tab)).to_be_attached()
        _check(page, f"the studio ({tab} tab)", found)

    # The phone layout has the same controls, re-flowed.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("tab", name="Lyrics").click()
    _check(page, "the studio at 390 px", found)
    assert not found, "axe found serious or critical problems:\n" + json.dumps(found, indent=2)

    # The checker itself can fail: a button without a name is critical.
    page.evaluate("document.querySelector('main').appendChild(document.createElement('button'))")
    _check(page, "a page with a nameless button", found)
    assert "a page with a nameless button" in found

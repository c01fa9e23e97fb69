"""The studio's controls as a person finds them: by role and accessible name.

The names come from the studio's components (web/src/studio/*.tsx); they live here
once so that a renamed control is fixed in one place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Locator, Page, expect

#: Ceiling of every wait for something another peer did (the assertion waits).
PEER_TIMEOUT_MS = 5_000
#: What a peer's edit may take to show on the other screen.
LATENCY_BUDGET_S = 1.0
#: Jobs (analysis, mix, master) run in the server's worker processes.
JOB_TIMEOUT_MS = 120_000


def open_studio(context: BrowserContext, project_id: str) -> Page:
    page = context.new_page()
    page.goto(f"/projects/{project_id}")
    expect_synced(page)
    return page


def sync_status(page: Page) -> Locator:
    return page.get_by_role("status", name="Sync status")


def expect_synced(page: Page, timeout_ms: int = 15_000) -> None:
    expect(sync_status(page)).to_have_text(re.compile(r"Synced$"), timeout=timeout_ms)


def tab(page: Page, name: str) -> Locator:
    """Open a side tab (Lyrics, Comments, Mix & master, Coaching, Versions, Members)."""
    button = page.get_by_role("tab", name=name, exact=True)
    button.click()
    expect(button).to_have_attribute("aria-selected", "true")
    return page.get_by_role("tabpanel", name=name, exact=True)


def add_track_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Add track", exact=True)


def track_header(page: Page, name: str) -> Locator:
    return page.get_by_role("group", name=f"Track {name}", exact=True)


def clips_of(page: Page, track: str) -> Locator:
    """A track's clips. A clip's name is its text, "Clip <track>[ (gain)] at <bar.beat>,
    <length>[ analysing…]"; its title holds the same without the status."""
    return page.get_by_role(
        "button", name=re.compile(rf"^Clip {re.escape(track)}( \([^)]*dB\))? at ")
    )


def lyrics_editor(page: Page) -> Locator:
    tab(page, "Lyrics")
    return page.get_by_role("textbox", name="Lyrics")


def wait_for_service_worker(page: Page) -> None:
    """The service worker controls the page (installed, precached, clients claimed)."""
    page.wait_for_function(
        "navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)"
    )
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def seconds_until(check: Callable[[], object]) -> float:
    """Seconds until ``check`` (an auto-waiting assertion or wait) succeeds."""
    start = time.perf_counter()
    check()
    return time.perf_counter() - start


_RECORD_CLOSE_CODES = """
(() => {
  const codes = [];
  window.__closeCodes = codes;
  const Native = window.WebSocket;
  class Recorded extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("close", (event) => codes.push(event.code));
    }
  }
  window.WebSocket = Recorded;
})();
"""


def record_close_codes(context: BrowserContext) -> None:
    """Every page of ``context`` keeps its sockets' close codes in ``window.__closeCodes``."""
    context.add_init_script(_RECORD_CLOSE_CODES)


def wait_for_close_code(page: Page, code: int) -> None:
    page.wait_for_function("code => window.__closeCodes.includes(code)", arg=code)


def _var_uint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def lyrics_update(text: str) -> bytes:
    """A Yjs update from a fresh client that writes ``text`` at the start of the lyrics."""
    from pycrdt import Doc, Text

    doc: Doc[Text] = Doc()
    lyrics = Text()
    doc["lyrics"] = lyrics
    lyrics += text
    return doc.get_update()


def send_raw_update(page: Page, project_id: str, token: str, update: bytes) -> None:
    """From ``page``, a socket of its own sends ``update`` as a sync message, then asks
    for the server's state (sync step 1); returns once the server answered or closed,
    so the update was handled (the server reads one socket's messages in order)."""
    sync_update = _var_uint(0) + _var_uint(2) + _var_uint(len(update)) + update
    step1 = _var_uint(0) + _var_uint(0) + _var_uint(1) + b"\x00"  # an empty state vector
    page.evaluate(
        """async ({ path, frames }) => {
            const scheme = location.protocol === "https:" ? "wss" : "ws";
            const ws = new WebSocket(`${scheme}://${location.host}${path}`);
            ws.binaryType = "arraybuffer";
            await new Promise((resolve, reject) => {
              ws.onopen = resolve;
              ws.onerror = () => reject(new Error("the socket did not open"));
            });
            const answered = new Promise((resolve) => {
              ws.onclose = resolve;
              ws.onmessage = (event) => {
                const bytes = new Uint8Array(event.data);
                if (bytes[0] === 0 && bytes[1] === 1) resolve();  // sync step 2
              };
            });
            for (const frame of frames) ws.send(new Uint8Array(frame));
            await answered;
            ws.close();
        }""",
        {
            "path": f"/collab/{project_id}?token={token}",
            "frames": [list(sync_update), list(step1)],
        },
    )

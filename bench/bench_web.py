"""The browser client against its budgets, in Debian's Chromium (headless, Python playwright).

Usage (from the repository root, after ``make web``):

    .venv/bin/python bench/bench_web.py [--loads 7] [--edits 200] [--dist web/dist]

It starts ``jacameno serve`` (SQLite, temporary data dir) on a free loopback port with
the built client (``--dist``, or ``JACAMENO_WEB_DIST``, default ``web/dist``), signs up
two people, gives them one project and measures:

1. JavaScript shipped for the first studio load: every JS response the page loads
   until the studio is interactive, gzipped here (zlib level 6, the usual server
   setting; the server's own Content-Encoding is shown when it sends one), against
   the budget of 250 KB. The service worker and its precache are fetched by the
   worker, not the page, and are not counted.
2. Cold load to interactive: a new browser context (empty cache, no service worker),
   a session in localStorage, navigate to ``/projects/<id>`` and stop the clock when
   the sync indicator says "Synced" and the arrangement shows the project's tracks.
   Median and worst of ``--loads`` runs, against 1.5 s.
3. An edit in one tab seen in another (two contexts, two users, the same project):
   p50/p99 over ``--edits`` edits, against p50 <= 50 ms and p99 <= 150 ms. With the
   bench hook (web/src/studio/benchHook.ts, ``?bench=1``) a lyrics insert in one
   tab's Y.Doc until the other tab's Y.Doc has it; always, a click on a track's Mute
   button until the other tab's button shows the new state (the DOM commit, React
   included). Reference in the same run: the same lyrics round trip between two
   Python CollabClient peers on the same server (no browser).
4. A project with 32 tracks and 400 clips (clips share three short uploaded assets,
   written by a CollabClient peer): idle for 2 s (reference), scroll the arrangement
   sideways and down for 3 s each, play for 4 s, recording long tasks
   (PerformanceObserver "longtask", > 50 ms) and frame times (requestAnimationFrame
   deltas; a frame over 50 ms counts as dropped).

Headless Chromium renders without a GPU, so frame figures are pessimistic against a
desktop browser; the load and latency figures are loopback only (no network delay).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import shlex
import statistics
import struct
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import anyio
import httpx
import pycrdt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.jacameno_target import serve_jacameno  # noqa: E402
from jacameno.collab.client import CollabClient  # noqa: E402

PASSWORD = "benchmark password"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]
JS_BUDGET_KB = 250.0
LOAD_BUDGET_S = 1.5
EDIT_P50_BUDGET_MS = 50.0
EDIT_P99_BUDGET_MS = 150.0
DROPPED_FRAME_MS = 50.0
BIG_TRACKS = 32
BIG_CLIPS = 400
VIEWPORT = {"width": 1440, "height": 900}
#: Milestones (ms from navigation start) of every studio opened, for the load breakdown.
LOAD_MARKS: list[dict[str, Any]] = []

# Runs in every page before its own scripts: marks the moment the studio is ready.
READY_SCRIPT = """
(() => {
  const want = Number(new URLSearchParams(location.search).get("rows") || "0");
  const marks = (window.__benchMarks = {});
  const check = () => {
    if (window.__benchReady) return;
    const sync = document.querySelector('[aria-label="Sync status"]');
    const arrangement = document.querySelector('section[aria-label="Arrangement"]');
    if (arrangement && !marks.arrangement) marks.arrangement = performance.now();
    if (sync && !marks.indicator) marks.indicator = performance.now();
    if (!sync || !arrangement || !/\\bSynced\\b/.test(sync.textContent || "")) return;
    if (!marks.synced) marks.synced = performance.now();
    if (arrangement.querySelectorAll(".arr-lane").length < want) return;
    window.__benchReady = performance.now();
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
})();
"""

# Records long tasks and frame times between start() and stop().
FRAMES_SCRIPT = """
(() => {
  const rec = { tasks: [], frames: [], on: false, last: 0 };
  try {
    new PerformanceObserver((list) => {
      if (rec.on) for (const e of list.getEntries()) rec.tasks.push(e.duration);
    }).observe({ type: "longtask", buffered: false });
  } catch (e) { rec.noLongtask = String(e); }
  const tick = (t) => {
    if (rec.on) { if (rec.last) rec.frames.push(t - rec.last); rec.last = t; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__benchFrames = {
    start() { rec.tasks = []; rec.frames = []; rec.last = 0; rec.on = true; },
    stop() {
      rec.on = false;
      return { tasks: rec.tasks, frames: rec.frames, noLongtask: rec.noLongtask || null };
    },
  };
})();
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def tone_wav(seconds: float, frequency_hz: float, sample_rate: int = 22_050) -> bytes:
    """A short mono tone as WAV bytes (an asset the clips can share)."""
    frames = int(seconds * sample_rate)
    samples = (
        int(9000 * math.sin(2 * math.pi * frequency_hz * i / sample_rate)) for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


class Person:
    def __init__(self, auth: dict[str, Any]) -> None:
        self.auth = auth
        self.token: str = auth["access_token"]
        self.headers = {"authorization": f"Bearer {self.token}"}

    def session_json(self) -> str:
        """The client's localStorage session (web/src/api/session.ts)."""
        return json.dumps(
            {
                "user": self.auth["user"],
                "accessToken": self.auth["access_token"],
                "refreshToken": self.auth["refresh_token"],
                "expiresAt": int(time.time() * 1000) + self.auth["expires_in"] * 1000,
            }
        )


async def signup(http: httpx.AsyncClient, email: str, name: str) -> Person:
    response = await http.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "display_name": name}
    )
    response.raise_for_status()
    return Person(response.json())


async def create_project(http: httpx.AsyncClient, owner: Person, name: str) -> str:
    response = await http.post("/api/v1/projects", json={"name": name}, headers=owner.headers)
    response.raise_for_status()
    project_id: str = response.json()["id"]
    return project_id


async def add_editor(http: httpx.AsyncClient, owner: Person, pid: str, member: Person) -> None:
    invite = await http.post(
        f"/api/v1/projects/{pid}/members",
        json={"email": member.auth["user"]["email"], "role": "editor"},
        headers=owner.headers,
    )
    invite.raise_for_status()
    accepted = await http.post(
        f"/api/v1/me/invites/{invite.json()['id']}/accept", headers=member.headers
    )
    accepted.raise_for_status()


async def upload(http: httpx.AsyncClient, owner: Person, pid: str, name: str, data: bytes) -> Any:
    response = await http.post(
        "/api/v1/tracks/upload",
        data={"project_id": pid, "name": name},
        files={"file": (f"{name}.wav", data, "audio/wav")},
        headers=owner.headers,
    )
    response.raise_for_status()
    return response.json()


# ------------------------------------------------------------------ browser helpers


async def open_studio(
    browser: Any, base_url: str, person: Person, pid: str, *, rows: int, bench: bool = False
) -> tuple[Any, Any, float, list[Any]]:
    """A new context (empty cache) with ``person`` signed in, the studio of ``pid`` open
    and ready; returns (context, page, ms from navigation start to ready, JS responses)."""
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(
        f"localStorage.setItem('jacameno.session', {json.dumps(person.session_json())});"
    )
    await context.add_init_script(READY_SCRIPT)
    await context.add_init_script(FRAMES_SCRIPT)
    page = await context.new_page()
    scripts: list[Any] = []

    def on_response(response: Any) -> None:
        if response.request.resource_type == "script" or response.url.split("?")[0].endswith(".js"):
            scripts.append(response)

    page.on("response", on_response)
    query = f"?rows={rows}" + ("&bench=1" if bench else "")
    await page.goto(f"{base_url}/projects/{pid}{query}")
    # The page's CSP forbids eval, so no wait_for_function: poll; the time is the page's.
    ready_ms: float | None = None
    with anyio.fail_after(30):
        while ready_ms is None:
            ready_ms = await page.evaluate("window.__benchReady ?? null")
            if ready_ms is None:
                await anyio.sleep(0.02)
    page.remove_listener("response", on_response)
    marks = await page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const js = performance.getEntriesByType("resource")
            .filter((e) => e.name.endsWith(".js"));
          return {
            ...window.__benchMarks,
            domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
            lastScript: Math.max(0, ...js.map((e) => e.responseEnd)),
          };
        }"""
    )
    LOAD_MARKS.append(marks)
    return context, page, ready_ms, scripts


async def js_shipped(scripts: list[Any]) -> list[tuple[str, int, int, str]]:
    """(path, raw bytes, gzipped bytes, server encoding) of each JS response."""
    out = []
    for response in scripts:
        try:
            body = await response.body()
        except Exception:  # a redirect or an aborted request has no body
            continue
        encoding = (await response.all_headers()).get("content-encoding", "identity")
        path = "/" + response.url.split("/", 3)[-1].split("?")[0]
        out.append((path, len(body), len(gzip.compress(body, compresslevel=6)), encoding))
    return out


# ------------------------------------------------------------------ scenarios


async def scenario_load(
    browser: Any, base_url: str, person: Person, pid: str, loads: int
) -> dict[str, Any]:
    times = []
    shipped: list[tuple[str, int, int, str]] = []
    for run in range(loads):
        context, _page, ready_ms, scripts = await open_studio(
            browser, base_url, person, pid, rows=1
        )
        if run == 0:
            shipped = await js_shipped(scripts)
        times.append(ready_ms)
        await context.close()
    return {"times_ms": times, "shipped": shipped}


async def edit_latency_browser(
    browser: Any, base_url: str, alice: Person, bob: Person, pid: str, edits: int, track: str
) -> dict[str, Any]:
    ctx_a, page_a, _, _ = await open_studio(browser, base_url, alice, pid, rows=1, bench=True)
    ctx_b, page_b, _, _ = await open_studio(browser, base_url, bob, pid, rows=1, bench=True)
    result: dict[str, Any] = {}
    try:
        hooked = await page_a.evaluate("!!window.__jacameno") and await page_b.evaluate(
            "!!window.__jacameno"
        )
        if hooked:
            await page_b.evaluate(
                """() => {
                  const text = window.__jacameno.doc.getText("lyrics");
                  window.__arrivals = new Map();
                  text.observe(() => {
                    const at = performance.timeOrigin + performance.now();
                    const m = /⟨(\\d+)⟩$/.exec(text.toString());
                    if (m && !window.__arrivals.has(m[1])) window.__arrivals.set(m[1], at);
                  });
                }"""
            )
            latencies = []
            for i in range(edits):
                t0 = await page_a.evaluate(
                    """(i) => {
                      const text = window.__jacameno.doc.getText("lyrics");
                      const t0 = performance.timeOrigin + performance.now();
                      text.insert(text.length, `⟨${i}⟩`);
                      return t0;
                    }""",
                    i,
                )
                t1 = await page_b.evaluate(
                    """(i) => new Promise((resolve) => {
                      const poll = () => {
                        const at = window.__arrivals.get(String(i));
                        if (at) resolve(at); else setTimeout(poll, 1);
                      };
                      poll();
                    })""",
                    i,
                )
                latencies.append(t1 - t0)
            result["yjs"] = latencies
        button = f'button[aria-label="Mute {track}"]'
        if await page_a.locator(button).count() and await page_b.locator(button).count():
            latencies = []
            for i in range(edits):
                pressed = "true" if i % 2 == 0 else "false"
                await page_b.evaluate(
                    """([selector, pressed]) => {
                      window.__seen = new Promise((resolve) => {
                        const check = () => {
                          const b = document.querySelector(selector);
                          if (b && b.getAttribute("aria-pressed") === pressed) {
                            observer.disconnect();
                            resolve(performance.timeOrigin + performance.now());
                          }
                        };
                        const observer = new MutationObserver(check);
                        observer.observe(document.body, {
                          subtree: true, childList: true, attributes: true,
                        });
                      });
                    }""",
                    [button, pressed],
                )
                t0 = await page_a.evaluate(
                    """(selector) => {
                      const t0 = performance.timeOrigin + performance.now();
                      document.querySelector(selector).click();
                      return t0;
                    }""",
                    button,
                )
                t1 = await page_b.evaluate("window.__seen")
                latencies.append(t1 - t0)
            result["ui"] = latencies
    finally:
        await ctx_a.close()
        await ctx_b.close()
    return result


async def edit_latency_python(
    base_url: str, alice: Person, bob: Person, pid: str, edits: int
) -> list[float]:
    """The same lyrics round trip between two CollabClient peers (no browser)."""
    latencies = []
    async with (
        CollabClient.for_project(base_url, pid, alice.token) as a,
        CollabClient.for_project(base_url, pid, bob.token) as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        text_a = a.doc.get("lyrics", type=pycrdt.Text)
        text_b = b.doc.get("lyrics", type=pycrdt.Text)
        for i in range(edits):
            marker = f"⟪{i}⟫"
            t0 = time.perf_counter()
            with a.doc.transaction():
                text_a.insert(len(text_a), marker)

            def arrived(marker: str = marker) -> bool:
                return str(text_b).endswith(marker)

            with anyio.fail_after(10):
                await b.wait_for(arrived)
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


async def fill_big_project(http: httpx.AsyncClient, base_url: str, owner: Person, pid: str) -> None:
    """32 tracks, 400 clips: three uploaded tracks (one clip each) and 29 more written
    by a CollabClient peer, clips sharing the three assets."""
    assets = []
    for index, frequency in enumerate((220.0, 330.0, 440.0)):
        uploaded = await upload(http, owner, pid, f"Take {index + 1}", tone_wav(4.0, frequency))
        assets.append((uploaded["asset"]["id"], uploaded["asset"]["duration_s"]))
    async with CollabClient.for_project(base_url, pid, owner.token) as peer:
        await peer.wait_synced()
        project = peer.project
        track_ids = [t.id for t in project.tracks_in_order()]
        with peer.doc.transaction():
            while len(track_ids) < BIG_TRACKS:
                track_ids.append(project.add_track(f"Track {len(track_ids) + 1}", "audio"))
        clips = len(assets)  # one per uploaded track already
        with peer.doc.transaction():
            while clips < BIG_CLIPS:
                track_id = track_ids[clips % BIG_TRACKS]
                asset_id, duration = assets[clips % len(assets)]
                start = 5.0 * (1 + (clips // BIG_TRACKS))
                project.add_clip(track_id, asset_id, start_s=start, duration_s=duration)
                clips += 1
        await peer.flush()


async def scenario_big(browser: Any, base_url: str, owner: Person, pid: str) -> dict[str, Any]:
    context, page, ready_ms, _ = await open_studio(browser, base_url, owner, pid, rows=BIG_TRACKS)
    phases: dict[str, Any] = {"ready_ms": ready_ms}
    try:
        phases["clips_drawn"] = await page.locator(".clip").count()

        cdp = await context.new_cdp_session(page)
        await cdp.send("Performance.enable")

        async def main_thread() -> dict[str, float]:
            metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
            return {m["name"]: m["value"] for m in metrics}

        async def record(name: str, action: Any) -> None:
            before = await main_thread()
            await page.evaluate("window.__benchFrames.start()")
            await action()
            phases[name] = await page.evaluate("window.__benchFrames.stop()")
            after = await main_thread()
            # Where the main thread's time went (seconds of script, layout, style).
            phases[name]["split"] = {
                key: after.get(key, 0.0) - before.get(key, 0.0)
                for key in (
                    "ScriptDuration",
                    "LayoutDuration",
                    "RecalcStyleDuration",
                    "TaskDuration",
                )
            }

        async def idle() -> None:
            await anyio.sleep(2.0)

        async def scroll(axis: str) -> None:
            await page.evaluate(
                """(axis) => new Promise((resolve) => {
                  const box = document.querySelector(".arr-scroll");
                  if (!box) return resolve(null);
                  const until = performance.now() + 3000;
                  let dir = 1;
                  const step = () => {
                    const max = axis === "x"
                      ? box.scrollWidth - box.clientWidth
                      : box.scrollHeight - box.clientHeight;
                    const at = axis === "x" ? box.scrollLeft : box.scrollTop;
                    if ((dir > 0 && at >= max - 1) || (dir < 0 && at <= 0)) dir = -dir;
                    if (axis === "x") box.scrollLeft = at + dir * 40;
                    else box.scrollTop = at + dir * 25;
                    if (performance.now() < until) requestAnimationFrame(step); else resolve(null);
                  };
                  requestAnimationFrame(step);
                })""",
                axis,
            )

        phases["scroll_extent"] = await page.evaluate(
            """() => { const b = document.querySelector(".arr-scroll");
              return b
                ? [b.scrollWidth - b.clientWidth, b.scrollHeight - b.clientHeight]
                : null; }"""
        )
        await record("idle", idle)
        await record("scroll-x", lambda: scroll("x"))
        await record("scroll-y", lambda: scroll("y"))

        play = page.locator('[aria-label="Transport"] button[aria-label="Play"]')
        if await play.count():
            await page.evaluate(
                """() => { const b = document.querySelector('.arr-scroll');
                  if (b) { b.scrollLeft = 0; b.scrollTop = 0; } }"""
            )

            async def playing() -> None:
                await play.click()
                await anyio.sleep(4.0)

            await record("play", playing)
            phases["position_after_play"] = await page.locator(
                '[aria-label="Position"]'
            ).inner_text()
            pause = page.locator('[aria-label="Transport"] button[aria-label="Pause"]')
            phases["was_playing"] = await pause.count() > 0
            if phases["was_playing"]:
                await pause.click()
    finally:
        await context.close()
    return phases


# ------------------------------------------------------------------ report


def verdict(ok: bool) -> str:
    return "within budget" if ok else "OVER BUDGET"


def describe_frames(name: str, data: dict[str, Any] | None, idle: dict[str, Any] | None) -> str:
    if not data:
        return f"  {name:9s} not measured (the control is missing)"
    frames = data["frames"]
    tasks = data["tasks"]
    dropped = sum(1 for f in frames if f > DROPPED_FRAME_MS)
    line = (
        f"  {name:9s} frames {len(frames):4d}, dropped (> {DROPPED_FRAME_MS:.0f} ms) {dropped:3d}, "
        f"frame p50 {percentile(frames, 0.5):5.1f} ms p95 {percentile(frames, 0.95):6.1f} ms "
        f"worst {max(frames, default=math.nan):6.1f} ms; long tasks {len(tasks):3d} "
        f"(total {sum(tasks):6.0f} ms, worst {max(tasks, default=0):5.0f} ms)"
    )
    if idle and name != "idle" and idle["frames"]:
        line += (
            f"; frame p95 x{percentile(frames, 0.95) / percentile(idle['frames'], 0.95):.2f} idle"
        )
    split = data.get("split")
    if split:
        other = (
            split["TaskDuration"]
            - split["ScriptDuration"]
            - split["LayoutDuration"]
            - split["RecalcStyleDuration"]
        )
        line += (
            f"\n            main thread: tasks {split['TaskDuration'] * 1000:.0f} ms = script "
            f"{split['ScriptDuration'] * 1000:.0f} + layout {split['LayoutDuration'] * 1000:.0f} "
            "+ style "
            f"{split['RecalcStyleDuration'] * 1000:.0f} + other (paint, GC...) "
            f"{other * 1000:.0f} ms"
        )
    if data.get("noLongtask"):
        line += f" [longtask observer unavailable: {data['noLongtask']}]"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--loads", type=int, default=7, help="cold loads to time")
    parser.add_argument("--edits", type=int, default=200, help="edits per latency series")
    parser.add_argument(
        "--dist",
        type=Path,
        default=Path(os.environ.get("JACAMENO_WEB_DIST", ROOT / "web" / "dist")),
        help="the built client (default: JACAMENO_WEB_DIST or web/dist)",
    )
    parser.add_argument("--chromium", default=os.environ.get("JACAMENO_TEST_CHROMIUM", CHROMIUM))
    parser.add_argument("--skip-big", action="store_true", help="skip the 32-track project")
    args = parser.parse_args()
    command = " ".join(
        shlex.quote(a) for a in [".venv/bin/python", "bench/bench_web.py", *sys.argv[1:]]
    )

    dist = args.dist.resolve()
    if not (dist / "index.html").is_file():
        print(f"bench_web: the web client is not built ({dist}/index.html missing): run make web")
        return
    if not Path(args.chromium).exists():
        print(f"bench_web: no Chromium at {args.chromium} (apt-get install chromium)")
        return
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        print("bench_web: python playwright is not installed in this environment")
        return

    async def run() -> None:
        with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
            env = {"JACAMENO_WEB_DIST": str(dist), "JACAMENO_JOB_WARM_UP": "false"}
            async with (
                serve_jacameno(Path(tmp), extra_env=env) as (base_url, _pid),
                httpx.AsyncClient(base_url=base_url, timeout=60) as http,
                async_playwright() as pw,
            ):
                browser = await pw.chromium.launch(
                    executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True
                )
                alice = await signup(http, "alice@example.com", "Alice")
                bob = await signup(http, "bob@example.com", "Bob")
                pid = await create_project(http, alice, "Bench song")
                await add_editor(http, alice, pid, bob)
                take = await upload(http, alice, pid, "Drums", tone_wav(3.0, 110.0))
                assert take["track_id"]

                print(f"command: {command}")
                print(f"server: jacameno serve {base_url} (SQLite, temp dir), client {dist}")
                print(f"browser: {args.chromium} headless, no GPU, viewport 1440x900")
                load1, load5, _ = os.getloadavg()
                print(
                    f"machine: {os.cpu_count()} CPUs, load average {load1:.1f} (1 min) "
                    f"{load5:.1f} (5 min) at the start"
                )

                load = await scenario_load(browser, base_url, alice, pid, args.loads)
                shipped = load["shipped"]
                gz_total = sum(g for _, _, g, _ in shipped) / 1024
                raw_total = sum(r for _, r, _, _ in shipped) / 1024
                print(
                    "\n1. JavaScript for the first studio load (gzip level 6, from the network "
                    "bodies)"
                )
                for path, raw, gz, encoding in sorted(shipped, key=lambda s: -s[2]):
                    print(
                        f"  {gz / 1024:7.1f} KB gz {raw / 1024:8.1f} KB raw  {path}  (sent "
                        f"{encoding})"
                    )
                print(
                    f"  total {gz_total:.1f} KB gzipped ({raw_total:.1f} KB raw) in "
                    f"{len(shipped)} files; "
                    f"budget {JS_BUDGET_KB:.0f} KB: {gz_total / JS_BUDGET_KB:.2f} of it, "
                    f"{verdict(gz_total <= JS_BUDGET_KB)}"
                )

                times = load["times_ms"]
                median = statistics.median(times)
                worst = max(times)
                print(
                    f"\n2. Cold load to interactive (Synced + arrangement), {len(times)} runs, "
                    "new context each"
                )
                print("  runs: " + ", ".join(f"{t:.0f}" for t in times) + " ms")
                cold = LOAD_MARKS[: len(times)]

                def mark(name: str) -> str:
                    values = [m[name] for m in cold if m.get(name) is not None]
                    return f"{statistics.median(values):.0f}" if values else "-"

                print(
                    "  median milestones (ms from navigation): DOMContentLoaded "
                    f"{mark('domContentLoaded')}, "
                    f"last script {mark('lastScript')}, studio shown {mark('indicator')}, "
                    f"arrangement {mark('arrangement')}, Synced {mark('synced')}"
                )
                print(
                    f"  median {median:.0f} ms, worst {worst:.0f} ms; budget "
                    f"{LOAD_BUDGET_S * 1000:.0f} ms: "
                    f"median {median / (LOAD_BUDGET_S * 1000):.2f}, worst "
                    f"{worst / (LOAD_BUDGET_S * 1000):.2f} of it, "
                    f"{verdict(worst <= LOAD_BUDGET_S * 1000)}"
                )

                edits = await edit_latency_browser(
                    browser, base_url, alice, bob, pid, args.edits, "Drums"
                )
                reference = await edit_latency_python(base_url, alice, bob, pid, args.edits)
                ref50, ref99 = percentile(reference, 0.5), percentile(reference, 0.99)
                print(
                    "\n3. An edit in one tab seen in the other (two contexts, two users), "
                    f"{args.edits} edits each"
                )
                print(
                    f"  reference: two Python CollabClient peers, lyrics insert: p50 {ref50:.1f} "
                    f"ms p99 {ref99:.1f} ms "
                    f"worst {max(reference):.1f} ms"
                )
                labels = {
                    "yjs": "browser tabs, lyrics insert Y.Doc -> Y.Doc (bench hook)",
                    "ui": "browser tabs, Mute click -> other tab's button aria-pressed",
                }
                for key, label in labels.items():
                    series = edits.get(key)
                    if not series:
                        reason = (
                            "the studio does not import web/src/studio/benchHook.ts "
                            "(useBenchHook(connection.doc))"
                            if key == "yjs"
                            else "no Mute button on the track"
                        )
                        print(f"  {label}: not measured ({reason})")
                        continue
                    p50, p99 = percentile(series, 0.5), percentile(series, 0.99)
                    ok = p50 <= EDIT_P50_BUDGET_MS and p99 <= EDIT_P99_BUDGET_MS
                    print(
                        f"  {label}: p50 {p50:.1f} ms p99 {p99:.1f} ms worst {max(series):.1f} ms "
                        f"(x{p50 / ref50:.1f} / x{p99 / ref99:.1f} the reference); budgets p50 "
                        f"{EDIT_P50_BUDGET_MS:.0f} "
                        f"p99 {EDIT_P99_BUDGET_MS:.0f} ms: {verdict(ok)}"
                    )

                if not args.skip_big:
                    big = await create_project(http, alice, "Big song")
                    await fill_big_project(http, base_url, alice, big)
                    phases = await scenario_big(browser, base_url, alice, big)
                    print(
                        f"\n4. {BIG_TRACKS} tracks, {BIG_CLIPS} clips: scroll and play (rAF frame "
                        "deltas, longtask observer)"
                    )
                    print(
                        f"  ready in {phases['ready_ms']:.0f} ms (cold, new context); clips drawn "
                        "at the start: "
                        f"{phases['clips_drawn']}; scrollable extent (x, y) px: "
                        f"{phases['scroll_extent']}"
                    )
                    for name in ("idle", "scroll-x", "scroll-y", "play"):
                        print(describe_frames(name, phases.get(name), phases.get("idle")))
                    if "was_playing" in phases:
                        print(
                            f"  playback: {'playing' if phases['was_playing'] else 'NOT playing'} "
                            "after 4 s, "
                            f"position {phases['position_after_play']!r}"
                        )
                await browser.close()

    anyio.run(run)


if __name__ == "__main__":
    main()

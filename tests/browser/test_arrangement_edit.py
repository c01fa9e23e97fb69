"""Editing the arrangement in the browser: a clip's fade and loops and a track's volume
automation, set by one editor through the UI, on the other editor's timeline and in the
server's document; and the browser's playback of an arrangement against the renderer's."""

from __future__ import annotations

import io
import re
import wave
from typing import Any

import numpy as np
import numpy.typing as npt
from anyio.from_thread import start_blocking_portal
from playwright.sync_api import BrowserContext, Locator, Page, expect

from jacameno.audio_services.arrangement import (
    ArrangedSource,
    Placement,
    automation_gains,
    lane_points,
)
from jacameno.audio_services.sources import ArraySource
from jacameno.collab.client import CollabClient
from tests.browser.conftest import ContextFactory, ServerProcess
from tests.browser.studio import PEER_TIMEOUT_MS, clips_of, open_studio, track_header
from tests.browser.support import Api, screenshots, sine_wav

#: The client writes negative figures with U+2212 MINUS SIGN (timeline/automationMath.ts).
MINUS = "\u2212"
TAKE_S = 2.0
#: Pixels a clip may differ from the expected width (borders, rounding).
WIDTH_TOLERANCE_PX = 1.5


def _width(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "the element is not drawn"
    return float(box["width"])


def _volume_lane(page: Page, track: str) -> Locator:
    return page.get_by_role("group", name=f"Volume automation of {track}", exact=True)


def test_fade_loops_and_automation_reach_the_other_editor_and_the_server(
    new_context: ContextFactory, api: Api
) -> None:
    alice, bob, project = api.shared_project("Arrange me", bpm=120)
    api.upload_wav(alice, project["id"], "Tone", sine_wav(TAKE_S, 330.0))

    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])
    alice_clip = clips_of(a, "Tone")
    bob_clip = clips_of(b, "Tone")
    expect(alice_clip).to_have_count(1)
    expect(bob_clip).to_have_count(1)
    expect(bob_clip).to_have_attribute("title", re.compile(r", 2 s$"))
    width_once = _width(bob_clip)
    px_per_s = width_once / TAKE_S

    # Alice selects the clip and sets a fade-in and two loops in the clip inspector.
    alice_clip.click()
    inspector = a.get_by_role("group", name="Clip inspector: Tone")
    inspector.get_by_label("Fade in (s)", exact=True).fill("0.5")
    inspector.get_by_label("Loops", exact=True).fill("2")
    expect(alice_clip).to_have_attribute("title", re.compile(r", 4 s, 2 loops, fade in 0\.5 s$"))

    # Bob's timeline: the clip twice as wide, its repeats and the fade-in's ramp.
    expect(bob_clip).to_have_attribute(
        "title", re.compile(r", 4 s, 2 loops, fade in 0\.5 s$"), timeout=PEER_TIMEOUT_MS
    )
    assert abs(_width(bob_clip) - 2 * width_once) <= WIDTH_TOLERANCE_PX
    expect(bob_clip.locator(".clip-wave")).to_have_attribute("data-loops", "2")
    ramp = bob_clip.locator(".clip-fade-in")
    expect(ramp).to_have_count(1)
    assert abs(float(ramp.get_attribute("data-fade-px") or "nan") - 0.5 * px_per_s) < 0.2
    # The shaded part of the ramp (its fill; the curve's stroke reaches a little past it).
    assert abs(_width(ramp.locator("polygon")) - 0.5 * px_per_s) <= WIDTH_TOLERANCE_PX

    # Alice opens the track's automation, clicks the lane 1 s in and types the value.
    track_header(a, "Tone").get_by_role("button", name="Automation of Tone").click()
    lane = _volume_lane(a, "Tone")
    lane.click(position={"x": 1.0 * px_per_s, "y": 20})
    points = lane.get_by_role("button", name=re.compile(r"^Volume point "))
    point = lane.get_by_role("button", name=re.compile(r"^Volume point 1 of 1: 0:01\.000, "))
    expect(point).to_be_focused()
    a.get_by_role("group", name="Automation of Tone").get_by_label("Value (dB)").fill("-6")
    expect(point).to_have_accessible_name(re.compile(rf", {MINUS}6\.0 dB, linear$"))
    expect(track_header(a, "Tone").get_by_role("button", name="Automation of Tone")).to_have_class(
        re.compile(r"\bhas-points\b")
    )
    # She drags it half a second later (on the grid, at the same level) ...
    box = point.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    a.mouse.move(x, y)
    a.mouse.down()
    a.mouse.move(x + 0.5 * px_per_s, y, steps=5)
    a.mouse.up()
    moved = lane.get_by_role(
        "button", name=re.compile(rf"^Volume point 1 of 1: 0:01\.500, {MINUS}6\.0 dB")
    )
    expect(moved).to_be_visible()
    # ... and adds a point at 3 s that she deletes from the keyboard.
    lane.click(position={"x": 3.0 * px_per_s, "y": 20})
    extra = lane.get_by_role("button", name=re.compile(r"^Volume point 2 of 2: 0:03\.000, "))
    expect(extra).to_be_focused()
    extra.press("Delete")
    expect(points).to_have_count(1)
    expect(moved).to_be_focused()
    screenshots(a, "studio-arrangement-edit")

    # Bob opens his automation row and sees the same point.
    track_header(b, "Tone").get_by_role("button", name="Automation of Tone").click()
    expect(
        _volume_lane(b, "Tone").get_by_role(
            "button", name=re.compile(rf"^Volume point 1 of 1: 0:01\.500, {MINUS}6\.0 dB, linear$")
        )
    ).to_be_visible(timeout=PEER_TIMEOUT_MS)

    # The server's document holds what both screens show.
    doc = api.document(bob, project["id"])["document"]
    (track,) = doc["tracks"]
    (clip,) = track["clips"]
    assert clip["loop_count"] == 2
    assert clip["fade_in_s"] == 0.5
    assert clip["fade_out_s"] == 0.0
    assert clip["fade_in_curve"] == "linear"
    assert clip["duration_s"] == TAKE_S
    assert track["volume_automation"] == [{"time_s": 1.5, "value": -6.0, "curve": "linear"}]
    assert track["pan_automation"] == []


# --------------------------------------------------------------------------- playback

RATE = 44_100
#: The browser renders this much of the song: less than the song, so the player never
#: reaches its end and stops the sources mid-render.
RENDER_S = 2.0
#: player.ts starts song time 0 this long after play (START_DELAY_S).
START_DELAY_S = 0.03
#: Where the volume lane written by _arrange steps (a hold point's end).
HOLD_STEP_S = 1.7
#: Samples either side of a step where the renderer may still be on its way (it computes
#: automation at a control rate and interpolates).
STEP_SMEAR_FRAMES = 64

# Every AudioContext the page makes is an OfflineAudioContext: play schedules as usual,
# then the test renders it. Each source started is counted on <html data-started>.
_OFFLINE_AUDIO = f"""
(() => {{
  class Offline extends OfflineAudioContext {{
    constructor() {{
      super(2, {round(START_DELAY_S * RATE) + round(RENDER_S * RATE)}, {RATE});
      window.__offline = this;
    }}
    resume() {{ return Promise.resolve(); }}
    close() {{ return Promise.resolve(); }}
  }}
  window.AudioContext = Offline;
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (...args) {{
    const html = document.documentElement;
    html.dataset.started = String(Number(html.dataset.started || "0") + 1);
    return start.apply(this, args);
  }};
}})();
"""


def _samples(wav_bytes: bytes) -> npt.NDArray[np.float32]:
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        frames = reader.readframes(reader.getnframes())
    return (np.frombuffer(frames, "<i2").astype(np.float32) / 32768.0)[np.newaxis, :]


async def _arrange(project_id: str, base_url: str, token: str) -> None:
    """Loops, fades, gain, an overlapping clip and both lanes, written the way the server's
    services write them (docs_model, through a CollabClient peer)."""
    async with CollabClient.for_project(base_url, project_id, token) as peer:
        await peer.wait_synced()
        project = peer.project
        (track,) = project.tracks_in_order()
        (clip,) = track.clips
        project.update_clip(
            track.id,
            clip.id,
            start_s=0.25,
            offset_s=0.1,
            duration_s=0.6,
            loop_count=3,
            gain_db=-3.0,
            fade_in_s=0.3,
            fade_in_curve="equal_power",
            fade_out_s=0.5,
            fade_out_curve="exponential",
        )
        project.add_clip(track.id, clip.asset_id, start_s=1.0, duration_s=0.4, gain_db=-6.0)
        project.set_automation(
            track.id,
            "volume",
            [
                {"time_s": 0.0, "value": 0.0, "curve": "linear"},
                {"time_s": 0.8, "value": -12.0, "curve": "smooth"},
                {"time_s": 1.4, "value": -3.0, "curve": "hold"},
                {"time_s": HOLD_STEP_S, "value": 0.0, "curve": "linear"},
            ],
        )
        project.set_automation(
            track.id,
            "pan",
            [{"time_s": 0.2, "value": -0.6, "curve": "linear"}, {"time_s": 1.8, "value": 1.0}],
        )
        await peer.flush()


def _rendered(document: dict[str, Any], take: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """What the server's renderer makes of the track: (2, frames), before the mixer's
    loudness staging (a constant gain per track)."""
    (track,) = document["tracks"]
    source = ArraySource(take, RATE)
    placements = [Placement.of_clip(clip, source) for clip in track["clips"]]
    arranged = np.concatenate(list(ArrangedSource(placements, RATE).blocks()), axis=1)[0]
    gains = automation_gains(
        lane_points(track["volume_automation"]),
        lane_points(track["pan_automation"]),
        volume_db=track["volume_db"],
        pan=track["pan"],
        channels=1,
        sample_rate=RATE,
    )
    assert gains is not None
    left, right = gains(0, arranged.shape[0])
    return np.stack([arranged * left, arranged * right]).astype(np.float64)


def test_the_browser_plays_what_the_renderer_renders(
    new_context: ContextFactory, api: Api, server: ServerProcess
) -> None:
    alice = api.signup("alice", "Alice")
    project = api.create_project(alice, "Play it back")
    wav = sine_wav(1.0, 440.0, rate=RATE)
    api.upload_wav(alice, project["id"], "Tone", wav)
    # Playwright's sync API runs its own event loop in this thread: the peer gets a loop
    # in another, kept until the end so its socket closes in its own time.
    with start_blocking_portal() as portal:
        portal.call(_arrange, project["id"], server.base_url, alice.access_token)
        heard = _play(new_context(alice), project["id"])

    expected = _rendered(api.document(alice, project["id"])["document"], _samples(wav))
    frames = round(RENDER_S * RATE)
    first = round(START_DELAY_S * RATE)
    heard = heard[:, first : first + frames]
    expected = np.pad(expected, ((0, 0), (0, max(0, frames - expected.shape[1]))))[:, :frames]
    # Sampled gain curves (200 a second, interpolated) against the renderer's: a few
    # hundred-thousandths of full scale, far below hearing; only where the volume lane
    # steps (a hold point) may the renderer's control-rate gains take a few dozen samples
    # the browser's step does not.
    error = np.abs(heard - expected)
    assert float(np.max(np.abs(expected))) > 0.2
    step = round(HOLD_STEP_S * RATE)
    smooth = np.ones(frames, dtype=bool)
    smooth[step - STEP_SMEAR_FRAMES : step + STEP_SMEAR_FRAMES] = False
    worst = float(error[:, smooth].max())
    assert worst < 1e-3, f"largest difference {worst:.5f} away from the lane's step"
    assert float(error.max()) < 0.05
    assert float(np.sqrt(np.mean(error**2))) < 1e-3


def _play(context: BrowserContext, project_id: str) -> npt.NDArray[np.float64]:
    """The song's first RENDER_S seconds (after START_DELAY_S) as the studio plays them."""
    context.add_init_script(_OFFLINE_AUDIO)
    page = open_studio(context, project_id)
    expect(clips_of(page, "Tone")).to_have_count(2)
    expect(clips_of(page, "Tone").first).to_have_attribute("title", re.compile(r", 3 loops, "))
    page.get_by_role("button", name="Play", exact=True).click()
    # The take is downloaded and decoded, then both clips get their source.
    expect(page.locator("html")).to_have_attribute("data-started", "2")
    channels = page.evaluate(
        """async () => {
          const buffer = await window.__offline.startRendering();
          return [Array.from(buffer.getChannelData(0)), Array.from(buffer.getChannelData(1))];
        }"""
    )
    return np.array(channels, dtype=np.float64)

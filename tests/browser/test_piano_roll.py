"""MIDI in the studio: a MIDI track, a clip, its notes written in the piano roll; a
second person sees the same notes live, and the server's document holds them. The
browser's synthesizer (FluidSynth in WASM with the server's SoundFont) sounds like the
server's render of the same notes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from jacameno.audio_services.midi_render import (
    MidiTrackSource,
    SoundFontMissingError,
    find_soundfont,
)
from tests.browser.conftest import ContextFactory
from tests.browser.studio import PEER_TIMEOUT_MS, open_studio
from tests.browser.support import Api, screenshots
from tests.conftest import service_missing

#: The piano roll's geometry (web/src/timeline/pianoRollMath.ts): a row per pitch from
#: 127 at the top, ROW_PX high; DEFAULT_BEAT_PX per beat.
ROW_PX = 14
BEAT_PX = 64


def midi_panel(page: Page) -> Locator:
    """The toolbar's MIDI tracks panel, opened."""
    button = page.get_by_role("button", name=re.compile(r"^MIDI tracks"))
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    panel = page.get_by_role("region", name="MIDI tracks")
    expect(panel).to_be_visible()
    return panel


def piano_roll(page: Page) -> Locator:
    return page.get_by_role("dialog", name=re.compile(r"^Piano roll"))


def notes_in(roll: Locator) -> Locator:
    return roll.get_by_role("button", name=re.compile(r"^Note "))


def click_cell(roll: Locator, pitch: int, beat: float) -> None:
    """Click the grid in the row of ``pitch`` at ``beat`` (from the clip's start)."""
    roll.get_by_role("group", name="Notes", exact=True).click(
        position={"x": beat * BEAT_PX + 5, "y": (127 - pitch) * ROW_PX + ROW_PX / 2}
    )


def test_notes_written_in_the_piano_roll_reach_a_peer_and_the_server(
    new_context: ContextFactory, api: Api
) -> None:
    alice, bob, project = api.shared_project("Keys duet", bpm=120)
    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])

    # Alice adds a MIDI track and a clip: the clip's piano roll opens.
    panel = midi_panel(a)
    panel.get_by_role("button", name="Add MIDI track").click()
    track = panel.get_by_role("group", name="MIDI track MIDI 1")
    screenshots(a, "studio-midi-tracks")
    track.get_by_role("button", name="Add clip").click()
    roll = piano_roll(a)
    expect(roll).to_be_visible()
    expect(notes_in(roll)).to_have_count(0)

    # Two notes by clicking the grid: C4 on the first beat, E4 on the second.
    click_cell(roll, 60, 0)
    expect(notes_in(roll)).to_have_count(1)
    click_cell(roll, 64, 1)
    expect(notes_in(roll)).to_have_count(2)
    c4 = roll.get_by_role("button", name="Note C4 at 1.1, 1 beat, velocity 100")
    e4 = roll.get_by_role("button", name="Note E4 at 1.2, 1 beat, velocity 100")
    expect(c4).to_be_visible()
    expect(e4).to_be_visible()
    # The new note has the focus: Up moves it a semitone, Shift+Right lengthens it.
    expect(e4).to_be_focused()
    e4.press("ArrowUp")
    f4 = roll.get_by_role("button", name="Note F4 at 1.2, 1 beat, velocity 100")
    expect(f4).to_be_focused()
    f4.press("Shift+ArrowRight")
    moved = roll.get_by_role("button", name="Note F4 at 1.2, 1.25 beats, velocity 100")
    expect(moved).to_be_visible()
    screenshots(a, "studio-piano-roll")

    # Bob opens the same clip and sees both notes; Alice's next edit shows live.
    bob_panel = midi_panel(b)
    bob_panel.get_by_role("button", name="Edit notes of clip MIDI 1 at 1.1").click()
    bob_roll = piano_roll(b)
    expect(notes_in(bob_roll)).to_have_count(2, timeout=PEER_TIMEOUT_MS)
    # The clip is on Bob's timeline too, where it plays, with its notes.
    lane_clip = b.get_by_role("button", name=re.compile(r"^MIDI clip on MIDI 1 at .*, 2 notes"))
    expect(lane_clip).to_have_count(1, timeout=PEER_TIMEOUT_MS)
    expect(
        bob_roll.get_by_role("button", name="Note C4 at 1.1, 1 beat, velocity 100")
    ).to_be_visible()
    expect(
        bob_roll.get_by_role("button", name="Note F4 at 1.2, 1.25 beats, velocity 100")
    ).to_be_visible()
    c4.click()
    roll.get_by_role("spinbutton", name="Velocity").fill("64")
    expect(
        bob_roll.get_by_role("button", name="Note C4 at 1.1, 1 beat, velocity 64")
    ).to_be_visible(timeout=PEER_TIMEOUT_MS)

    # Bob deletes the F4 from the keyboard; Alice sees one note left.
    bob_f4 = bob_roll.get_by_role("button", name=re.compile(r"^Note F4"))
    bob_f4.focus()
    bob_f4.press("Delete")
    expect(notes_in(roll)).to_have_count(1, timeout=PEER_TIMEOUT_MS)

    # The server's document holds the MIDI track, its clip and the note.
    doc = api.document(alice, project["id"])["document"]
    (midi,) = [t for t in doc["tracks"] if t["kind"] == "midi"]
    assert midi["name"] == "MIDI 1"
    (clip,) = midi["midi_clips"]
    assert clip["start_s"] == 0
    assert clip["duration_s"] == 4.0  # two bars of 4/4 at 120 bpm
    (note,) = clip["notes"]
    assert note["pitch"] == 60
    assert note["start_beats"] == 0
    assert note["length_beats"] == 1
    assert note["velocity"] == 64


def test_a_viewer_sees_the_notes_but_cannot_write_any(
    new_context: ContextFactory, api: Api
) -> None:
    owner, viewer, project = api.shared_project(
        "Look at the keys", owner=("owner", "Olive"), member=("viewer", "Victor"), role="viewer"
    )
    o = open_studio(new_context(owner), project["id"])
    v = open_studio(new_context(viewer), project["id"])

    panel = midi_panel(o)
    panel.get_by_role("button", name="Add MIDI track").click()
    panel.get_by_role("group", name="MIDI track MIDI 1").get_by_role(
        "button", name="Add clip"
    ).click()
    click_cell(piano_roll(o), 67, 2)
    expect(notes_in(piano_roll(o))).to_have_count(1)

    viewer_panel = midi_panel(v)
    expect(viewer_panel.get_by_role("button", name="Add MIDI track")).to_be_disabled()
    viewer_panel.get_by_role("button", name="Show notes of clip MIDI 1 at 1.1").click()
    roll = piano_roll(v)
    note = roll.get_by_role("button", name="Note G4 at 1.3, 1 beat, velocity 100")
    expect(note).to_be_visible(timeout=PEER_TIMEOUT_MS)
    expect(roll.get_by_role("button", name="Add note")).to_be_disabled()
    expect(roll.get_by_role("spinbutton", name="Velocity")).to_be_disabled()

    # Neither a click on the grid nor the keyboard changes anything.
    click_cell(roll, 60, 0)
    note.focus()
    note.press("ArrowUp")
    note.press("Delete")
    # The owner's edit after the viewer's attempts arrives, so they had their chance.
    click_cell(piano_roll(o), 72, 3)
    expect(notes_in(roll)).to_have_count(2, timeout=PEER_TIMEOUT_MS)
    expect(note).to_be_visible()
    doc = api.document(owner, project["id"])["document"]
    (midi,) = [t for t in doc["tracks"] if t["kind"] == "midi"]
    assert sorted(n["pitch"] for n in midi["midi_clips"][0]["notes"]) == [67, 72]


#: Offline render in the page: the synthesizer from the built chunk (MidiEngine, as the
#: studio loads it), notes posted while the render is suspended at 0.5 s.
_RENDER_IN_PAGE = """async ({ chunk, program, events, seconds, rate }) => {
  const { MidiEngine } = await import(chunk);
  const ctx = new OfflineAudioContext(2, Math.round(seconds * rate), rate);
  const synth = await new MidiEngine(ctx).synth(program, ctx.destination);
  ctx.suspend(0.5).then(async () => {
    synth.post({ type: "add", events });
    // The worklet takes the message before the render resumes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await ctx.resume();
  });
  const buffer = await ctx.startRendering();
  return [Array.from(buffer.getChannelData(0)), Array.from(buffer.getChannelData(1))];
}"""
RATE = 44_100
#: Where the clip starts in both renders (s): after the render's suspension at 0.5 s.
CLIP_START_S = 1.0
#: The server's renderer starts a note at most 31 frames late, the browser's at most 63.
ONSET_TOLERANCE_FRAMES = 64


def _rms_db(signal: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(signal))) + 1e-12))


def _onset_frame(signal: np.ndarray) -> int:
    return int(np.argmax(np.abs(signal[0]) > 1e-4))


def _strongest_hz(signal: np.ndarray, from_s: float) -> float:
    size = 16_384
    start = int(from_s * RATE)
    spectrum = np.abs(np.fft.rfft(signal[0, start : start + size] * np.hanning(size)))
    return float(np.argmax(spectrum) * RATE / size)


@pytest.mark.parametrize("program", [0, 33])
def test_the_browser_synthesizer_sounds_like_the_server_render(
    new_context: ContextFactory, web_dist: Path, program: int
) -> None:
    try:
        soundfont = find_soundfont()
        notes = [
            {"pitch": 60, "start_beats": 0.5, "length_beats": 1.0, "velocity": 100},
            {"pitch": 67, "start_beats": 1.0, "length_beats": 1.0, "velocity": 80},
        ]
        clip = {"start_s": CLIP_START_S, "duration_s": 4.0, "notes": notes}
        source = MidiTrackSource(
            [clip], bpm=120.0, instrument=program, sample_rate=RATE, soundfont=soundfont
        )
        server = np.concatenate(list(source.blocks()), axis=1)
    except SoundFontMissingError as exc:
        service_missing(str(exc))
    (chunk,) = (web_dist / "assets").glob("midiPlayer-*.js")
    events = []
    for note in notes:  # at 120 bpm a beat is 0.5 s
        on_s = CLIP_START_S + note["start_beats"] * 0.5
        off_s = on_s + note["length_beats"] * 0.5
        key = str(note["pitch"])
        events.append(
            {
                "frame": round(on_s * RATE),
                "pitch": note["pitch"],
                "velocity": note["velocity"],
                "key": key,
            }
        )
        events.append(
            {"frame": round(off_s * RATE), "pitch": note["pitch"], "velocity": 0, "key": key}
        )

    page = new_context().new_page()
    page.goto("/")  # the studio's origin, with the server's Content-Security-Policy
    rendered = page.evaluate(
        _RENDER_IN_PAGE,
        {
            "chunk": f"/assets/{chunk.name}",
            "program": program,
            "events": events,
            "seconds": 3.5,
            "rate": RATE,
        },
    )
    web = np.array(rendered, dtype=np.float32)
    server = np.pad(server, ((0, 0), (0, max(0, web.shape[1] - server.shape[1]))))[
        :, : web.shape[1]
    ]

    assert abs(_onset_frame(web) - _onset_frame(server)) <= ONSET_TOLERANCE_FRAMES
    assert abs(_rms_db(web) - _rms_db(server)) < 1.0, (_rms_db(web), _rms_db(server))
    assert abs(float(np.abs(web).max()) - float(np.abs(server).max())) < 0.06
    assert _strongest_hz(web, 1.3) == pytest.approx(_strongest_hz(server, 1.3), abs=RATE / 16_384)


#: Every node connected to a context's speakers is also connected to an analyser, so the
#: test can hear the page: window.__loudness() is the loudest RMS any context plays now.
_LISTEN = """(() => {
  const taps = [];
  const connect = AudioNode.prototype.connect;
  AudioNode.prototype.connect = function (target, ...rest) {
    if (target instanceof AudioDestinationNode) {
      let tap = taps.find((t) => t.context === target.context);
      if (!tap) {
        tap = { context: target.context, analyser: target.context.createAnalyser() };
        tap.analyser.fftSize = 2048;
        taps.push(tap);
      }
      connect.call(this, tap.analyser);
    }
    return connect.call(this, target, ...rest);
  };
  window.__loudness = () => {
    let loudest = 0;
    for (const { analyser } of taps) {
      const samples = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(samples);
      const power = samples.reduce((sum, x) => sum + x * x, 0) / samples.length;
      loudest = Math.max(loudest, Math.sqrt(power));
    }
    return loudest;
  };
})();"""
#: RMS that counts as sound (the synthesizer's notes are around 0.01; silence is 0).
AUDIBLE_RMS = 1e-3


def test_the_clip_and_the_song_play_their_notes_through_the_synthesizer(
    new_context: ContextFactory, api: Api
) -> None:
    owner = api.signup("player", "Pia")
    project = api.create_project(owner, "Heard", bpm=120)
    context = new_context(owner)
    context.add_init_script(_LISTEN)
    page = open_studio(context, project["id"])

    panel = midi_panel(page)
    panel.get_by_role("button", name="Add MIDI track").click()
    panel.get_by_role("group", name="MIDI track MIDI 1").get_by_role(
        "button", name="Add clip"
    ).click()
    roll = piano_roll(page)
    for beat in range(8):  # a note on every beat of the two bars
        click_cell(roll, 60 + beat, beat)
    expect(notes_in(roll)).to_have_count(8)

    # "Play clip" loops the clip through FluidSynth once the instrument has loaded.
    play = roll.get_by_role("button", name="Play clip")
    expect(play).to_be_enabled(timeout=30_000)
    play.click()
    page.wait_for_function("level => window.__loudness() > level", arg=AUDIBLE_RMS)
    roll.get_by_role("button", name="Stop").click()
    page.wait_for_function(
        "level => window.__loudness() < level", arg=AUDIBLE_RMS / 10, timeout=15_000
    )
    roll.get_by_role("button", name="Close").click()
    expect(roll).to_have_count(0)

    # The transport plays the MIDI track along with the song.
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("level => window.__loudness() > level", arg=AUDIBLE_RMS)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function(
        "level => window.__loudness() < level", arg=AUDIBLE_RMS / 10, timeout=15_000
    )

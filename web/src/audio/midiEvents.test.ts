import { describe, expect, it } from "vitest";
import type { MidiClip, MidiNote } from "../doc/midi";
import { midiEndS, noteSpanS, passFrameEvents, songNoteEvents } from "./midiEvents";

const note = (id: string, pitch: number, startBeats: number, lengthBeats: number, velocity = 100): MidiNote => ({ id, pitch, startBeats, lengthBeats, velocity });
const clip = (id: string, startS: number, durationS: number, notes: MidiNote[]): MidiClip => ({ id, trackId: "t", startS, durationS, notes });

describe("note timing", () => {
  it("places a note at clip start + beats x 60/bpm, cut at the clip's end", () => {
    const c = clip("c", 2, 2, []);
    expect(noteSpanS(c, { startBeats: 1, lengthBeats: 2 }, 120)).toEqual({ onS: 2.5, offS: 3.5 });
    expect(noteSpanS(c, { startBeats: 3, lengthBeats: 2 }, 120)).toEqual({ onS: 3.5, offS: 4 });
    expect(noteSpanS(c, { startBeats: 1, lengthBeats: 1 }, 90)).toEqual({ onS: 2 + 60 / 90, offS: 2 + 120 / 90 });
  });

  it("gives the events the server renders (audio_services/midi_render.note_events)", () => {
    // The same clip through note_events at 120 bpm gives (s, velocity, pitch):
    // (2.5, 90, 60), (3.5, 0, 60), (3.5, 100, 60), (4.0, 0, 60); the third note starts at the clip's end.
    const clips = [clip("c", 2, 2, [note("a", 60, 1, 2, 90), note("b", 60, 3, 2), note("late", 64, 4, 1)])];
    expect(songNoteEvents(clips, 120).map((e) => [e.timeS, e.velocity, e.pitch, e.key])).toEqual([
      [2.5, 90, 60, "c/a"],
      [3.5, 0, 60, "c/a"],
      [3.5, 100, 60, "c/b"],
      [4, 0, 60, "c/b"],
    ]);
  });

  it("merges the clips of a track in time order, and finds where the last clip ends", () => {
    const clips = [clip("late", 4, 1, [note("x", 50, 0, 1)]), clip("early", 0, 1, [note("y", 70, 0, 1)])];
    expect(songNoteEvents(clips, 60).map((e) => e.key)).toEqual(["early/y", "early/y", "late/x", "late/x"]);
    expect(midiEndS(clips)).toBe(5);
    expect(midiEndS([])).toBe(0);
  });

  it("reads a tempo of 0 or less as 120 bpm", () => {
    const clips = [clip("c", 0, 10, [note("n", 60, 2, 1)])];
    expect(songNoteEvents(clips, 0)[0].timeS).toBe(1);
  });
});

describe("a pass on the audio clock", () => {
  const events = songNoteEvents([clip("c", 0, 8, [note("a", 60, 0, 1), note("b", 62, 2, 4), note("c", 64, 6, 2)])], 120);
  // At 120 bpm: a 0..0.5 s, b 1..3 s, c 3..4 s.

  it("stamps each note with the context frame where the song reaches it", () => {
    const frames = passFrameEvents(events, { songFromS: 0, songToS: Infinity, ctxStartS: 10 }, 1000, "@1");
    expect(frames.map((e) => [e.frame, e.velocity, e.pitch, e.key])).toEqual([
      [10000, 100, 60, "c/a@1"],
      [10500, 0, 60, "c/a@1"],
      [11000, 100, 62, "c/b@1"],
      [13000, 0, 62, "c/b@1"],
      [13000, 100, 64, "c/c@1"],
      [14000, 0, 64, "c/c@1"],
    ]);
  });

  it("starting mid-song strikes only the notes still to come", () => {
    const frames = passFrameEvents(events, { songFromS: 2, songToS: Infinity, ctxStartS: 0 }, 1000);
    expect(frames.map((e) => [e.frame, e.key])).toEqual([
      [1000, "c/c"],
      [2000, "c/c"],
    ]);
  });

  it("a loop pass releases the notes sounding at its end, and joins late when asked", () => {
    const pass = { songFromS: 0, songToS: 2, ctxStartS: 5 };
    expect(passFrameEvents(events, pass, 1000).map((e) => [e.frame, e.velocity, e.key])).toEqual([
      [5000, 100, "c/a"],
      [5500, 0, "c/a"],
      [6000, 100, "c/b"],
      [7000, 0, "c/b"],
    ]);
    // Joining the pass at song time 0.75 s: the first note has already been played.
    expect(passFrameEvents(events, pass, 1000, "", 0.75).map((e) => e.key)).toEqual(["c/b", "c/b"]);
  });
});

import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import {
  addMidiClip,
  addMidiTrack,
  addNote,
  moveMidiClip,
  moveNote,
  readMidiTracks,
  removeMidiClip,
  removeNote,
  resizeMidiClip,
  resizeNote,
  setInstrument,
  setVelocity,
} from "./midi";
import { addTrack, readTracks, trackMap, tracksOf } from "./model";

/** Exchange the full state between two docs that edited apart (offline, then reconnect). */
function exchange(a: Y.Doc, b: Y.Doc): void {
  const fromA = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
  const fromB = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
  Y.applyUpdate(b, fromA);
  Y.applyUpdate(a, fromB);
}

function notesMap(doc: Y.Doc, trackId: string, clipId: string): Y.Map<unknown> {
  const clips = trackMap(doc, trackId).get("midi_clips") as Y.Map<unknown>;
  return (clips.get(clipId) as Y.Map<unknown>).get("notes") as Y.Map<unknown>;
}

function withClip(): { doc: Y.Doc; trackId: string; clipId: string } {
  const doc = new Y.Doc();
  const trackId = addMidiTrack(doc, "Keys", 4);
  const clipId = addMidiClip(doc, trackId, 2, 4);
  return { doc, trackId, clipId };
}

describe("MIDI tracks", () => {
  it("adds a MIDI track after every other track, with the fields docs_model writes", () => {
    const doc = new Y.Doc();
    addTrack(doc, "Vocals");
    const id = addMidiTrack(doc, "Keys", 200);
    const raw = trackMap(doc, id);
    expect(raw.get("kind")).toBe("midi");
    expect(raw.get("instrument")).toBe(127);
    expect(raw.get("midi_clips")).toBeInstanceOf(Y.Map);
    expect(raw.get("clips")).toBeInstanceOf(Y.Map);
    const [vocals] = readTracks(doc);
    expect(String(raw.get("order")) > vocals.order).toBe(true);
    const [keys] = readMidiTracks(doc);
    expect(keys).toMatchObject({ id, name: "Keys", instrument: 127, mute: false, clips: [] });
    // A second MIDI track goes after the first.
    const second = addMidiTrack(doc, "Bass", 33);
    expect(readMidiTracks(doc).map((t) => t.id)).toEqual([id, second]);
  });

  it("reads junk as defaults and skips what cannot be read", () => {
    const doc = new Y.Doc();
    doc.transact(() => {
      const tracks = tracksOf(doc);
      const track = new Y.Map<unknown>();
      track.set("name", "Odd");
      track.set("kind", "midi");
      track.set("instrument", 3.5);
      track.set("pan", 7);
      track.set("volume_db", "loud");
      const clips = new Y.Map<unknown>();
      const good = new Y.Map<unknown>();
      good.set("start_s", 1);
      good.set("duration_s", 2);
      const notes = new Y.Map<unknown>();
      const note = (fields: Record<string, unknown>) => new Y.Map<unknown>(Object.entries(fields));
      notes.set("ok", note({ pitch: 60, start_beats: 1, length_beats: 0.5, velocity: 300 }));
      notes.set("early", note({ pitch: 64, start_beats: 0, length_beats: 1 }));
      notes.set("high", note({ pitch: 128, start_beats: 0, length_beats: 1 }));
      notes.set("fraction", note({ pitch: 60.5, start_beats: 0, length_beats: 1 }));
      notes.set("empty", note({ pitch: 60, start_beats: 0, length_beats: 0 }));
      notes.set("before", note({ pitch: 60, start_beats: -1, length_beats: 1 }));
      notes.set("plain", { pitch: 60, start_beats: 0, length_beats: 1 });
      good.set("notes", notes);
      clips.set("good", good);
      const bad = new Y.Map<unknown>();
      bad.set("start_s", 1);
      bad.set("duration_s", -2);
      clips.set("bad", bad);
      clips.set("text", "not a clip");
      track.set("midi_clips", clips);
      tracks.set("odd", track);
      tracks.set("nameless", new Y.Map<unknown>(Object.entries({ kind: "midi" })));
      tracks.set("audio", new Y.Map<unknown>(Object.entries({ kind: "audio", name: "A" })));
      tracks.set("raw", { kind: "midi", name: "plain object" });
    });
    const tracks = readMidiTracks(doc);
    // A plain object a client wrote is read (as docs_model reads it); no name or not MIDI: skipped.
    expect(tracks.map((t) => t.name)).toEqual(["Odd", "plain object"]);
    const [odd] = tracks;
    expect(odd).toMatchObject({ instrument: 0, pan: 0, volumeDb: 0, order: "" });
    expect(odd.clips.map((c) => c.id)).toEqual(["good"]);
    expect(odd.clips[0].notes).toEqual([
      { id: "plain", pitch: 60, velocity: 100, startBeats: 0, lengthBeats: 1 },
      { id: "early", pitch: 64, velocity: 100, startBeats: 0, lengthBeats: 1 },
      { id: "ok", pitch: 60, velocity: 100, startBeats: 1, lengthBeats: 0.5 },
    ]);
  });

  it("edits a note a client wrote as a plain object by making it a Map under the same id", () => {
    const { doc, trackId, clipId } = withClip();
    notesMap(doc, trackId, clipId).set("plain", { pitch: 60, start_beats: 0, length_beats: 1, velocity: 90 });
    setVelocity(doc, trackId, clipId, "plain", 40);
    const stored = notesMap(doc, trackId, clipId).get("plain");
    expect(stored).toBeInstanceOf(Y.Map);
    expect((stored as Y.Map<unknown>).toJSON()).toEqual({ pitch: 60, start_beats: 0, length_beats: 1, velocity: 40 });
  });

  it("adds, moves, resizes and deletes clips; a track without a clip map gets one", () => {
    const doc = new Y.Doc();
    const id = addMidiTrack(doc, "Keys");
    trackMap(doc, id).delete("midi_clips");
    const clipId = addMidiClip(doc, id, -1, 4);
    moveMidiClip(doc, id, clipId, 8);
    resizeMidiClip(doc, id, clipId, 2);
    resizeMidiClip(doc, id, clipId, 0); // refused
    expect(readMidiTracks(doc)[0].clips).toEqual([{ id: clipId, trackId: id, startS: 8, durationS: 2, notes: [] }]);
    expect(() => addMidiClip(doc, id, 0, 0)).toThrow(/more than 0 s/);
    removeMidiClip(doc, id, clipId);
    expect(readMidiTracks(doc)[0].clips).toEqual([]);
  });

  it("sets the instrument as a whole GM program", () => {
    const { doc, trackId } = withClip();
    setInstrument(doc, trackId, 40.4);
    expect(readMidiTracks(doc)[0].instrument).toBe(40);
    setInstrument(doc, trackId, -3);
    expect(readMidiTracks(doc)[0].instrument).toBe(0);
  });
});

describe("MIDI notes", () => {
  it("writes each note as its own Map under its id, values kept in range", () => {
    const { doc, trackId, clipId } = withClip();
    const id = addNote(doc, trackId, clipId, { pitch: 200, startBeats: -2, lengthBeats: 0.5, velocity: 0 });
    expect(id).not.toBeNull();
    const stored = notesMap(doc, trackId, clipId).get(id!);
    expect(stored).toBeInstanceOf(Y.Map);
    expect((stored as Y.Map<unknown>).toJSON()).toEqual({ pitch: 127, velocity: 1, start_beats: 0, length_beats: 0.5 });
    expect(() => addNote(doc, trackId, clipId, { pitch: 60, startBeats: 0, lengthBeats: 0 })).toThrow(/more than 0 beats/);
  });

  it("moves, resizes and sets velocity in place: the note keeps its id and its Map", () => {
    const { doc, trackId, clipId } = withClip();
    const id = addNote(doc, trackId, clipId, { pitch: 60, startBeats: 0, lengthBeats: 1 })!;
    const before = notesMap(doc, trackId, clipId).get(id);
    moveNote(doc, trackId, clipId, id, 1.5, 62);
    resizeNote(doc, trackId, clipId, id, 2);
    resizeNote(doc, trackId, clipId, id, -1); // refused
    setVelocity(doc, trackId, clipId, id, 64.6);
    expect(notesMap(doc, trackId, clipId).get(id)).toBe(before);
    expect(readMidiTracks(doc)[0].clips[0].notes).toEqual([{ id, pitch: 62, velocity: 65, startBeats: 1.5, lengthBeats: 2 }]);
    removeNote(doc, trackId, clipId, id);
    expect(readMidiTracks(doc)[0].clips[0].notes).toEqual([]);
    // Editing a note a peer deleted leaves it deleted.
    moveNote(doc, trackId, clipId, id, 3, 70);
    expect(notesMap(doc, trackId, clipId).size).toBe(0);
  });

  it("merges two people's edits of one clip: a move, a resize and a new note all survive", () => {
    const { doc: a, trackId, clipId } = withClip();
    const id = addNote(a, trackId, clipId, { pitch: 60, startBeats: 0, lengthBeats: 1 })!;
    const b = new Y.Doc();
    exchange(a, b);
    moveNote(a, trackId, clipId, id, 2, 67);
    resizeNote(b, trackId, clipId, id, 3);
    const added = addNote(b, trackId, clipId, { pitch: 48, startBeats: 1, lengthBeats: 1, velocity: 80 })!;
    exchange(a, b);
    const expected = [
      { id: added, pitch: 48, velocity: 80, startBeats: 1, lengthBeats: 1 },
      { id, pitch: 67, velocity: 100, startBeats: 2, lengthBeats: 3 },
    ];
    expect(readMidiTracks(a)[0].clips[0].notes).toEqual(expected);
    expect(readMidiTracks(b)[0].clips[0].notes).toEqual(expected);
  });
});

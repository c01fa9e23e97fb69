// MIDI tracks of the project document (docs_model/midi.py, clip_records.py): a track of
// kind "midi" plays General MIDI program `instrument` (0..127, null = 0); its
// `midi_clips` Map holds clips {start_s, duration_s, notes}, and `notes` is a Map keyed
// by note id, each note its own Map {pitch, velocity, start_beats, length_beats} with
// beats counted from the clip's start. Notes are edited field by field in place, so two
// people moving two notes of one clip (or one moving and one lengthening a note) merge.
// Reads never fail on what a peer wrote; every write is one transaction.
import * as Y from "yjs";
import { newId, orderBetween, trackMap, tracksOf } from "./model";

export const MIN_PITCH = 0;
export const MAX_PITCH = 127;
export const DEFAULT_VELOCITY = 100;
/** General MIDI programs: 0 (Acoustic Grand Piano) to 127. */
export const MAX_INSTRUMENT = 127;
/** Notes one clip may hold (docs_model MAX_NOTES). */
export const MAX_NOTES = 20_000;

export interface MidiNote {
  id: string;
  /** MIDI note number, 60 is middle C. */
  pitch: number;
  /** 1..127. */
  velocity: number;
  /** From the clip's start, in beats (>= 0). */
  startBeats: number;
  /** In beats (> 0). */
  lengthBeats: number;
}

export interface MidiClip {
  id: string;
  trackId: string;
  startS: number;
  durationS: number;
  /** By start, then pitch, then id (docs_model's order). */
  notes: MidiNote[];
}

export interface MidiTrack {
  id: string;
  name: string;
  order: string;
  /** General MIDI program 0..127 (a missing or bad value reads as 0). */
  instrument: number;
  volumeDb: number;
  pan: number;
  mute: boolean;
  solo: boolean;
  /** By start, then id. */
  clips: MidiClip[];
}

// ---------------------------------------------------------------- reads

/** The fields of a record: a Map, or a plain object a client wrote (docs_model reads both). */
function fieldsOf(raw: unknown): Map<string, unknown> | null {
  if (raw instanceof Y.Map) return new Map(raw.entries());
  if (raw && typeof raw === "object" && !Array.isArray(raw) && !(raw instanceof Y.AbstractType)) {
    return new Map(Object.entries(raw as Record<string, unknown>));
  }
  return null;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const wholeIn = (v: unknown, min: number, max: number): v is number => finite(v) && Number.isInteger(v) && v >= min && v <= max;

export function readNote(noteId: string, raw: unknown): MidiNote | null {
  const f = fieldsOf(raw);
  if (!f) return null;
  const pitch = f.get("pitch");
  const start = f.get("start_beats");
  const length = f.get("length_beats");
  if (!wholeIn(pitch, MIN_PITCH, MAX_PITCH) || !finite(start) || start < 0 || !finite(length) || !(length > 0)) return null;
  const velocity = f.get("velocity");
  return { id: noteId, pitch, velocity: wholeIn(velocity, 1, 127) ? velocity : DEFAULT_VELOCITY, startBeats: start, lengthBeats: length };
}

export const compareNotes = (a: MidiNote, b: MidiNote): number =>
  a.startBeats - b.startBeats || a.pitch - b.pitch || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function readMidiClip(trackId: string, clipId: string, raw: unknown): MidiClip | null {
  const f = fieldsOf(raw);
  if (!f) return null;
  const start = f.get("start_s");
  const duration = f.get("duration_s");
  if (!finite(start) || start < 0 || !finite(duration) || !(duration > 0)) return null;
  const notes: MidiNote[] = [];
  for (const [noteId, value] of fieldsOf(f.get("notes")) ?? []) {
    const note = readNote(noteId, value);
    if (note) notes.push(note);
  }
  return { id: clipId, trackId, startS: start, durationS: duration, notes: notes.sort(compareNotes) };
}

/** A MIDI track, or null when `raw` is not one (another kind, or no name). */
export function readMidiTrack(trackId: string, raw: unknown): MidiTrack | null {
  const f = fieldsOf(raw);
  if (!f || f.get("kind") !== "midi") return null;
  const name = f.get("name");
  if (typeof name !== "string") return null;
  const clips: MidiClip[] = [];
  for (const [clipId, value] of fieldsOf(f.get("midi_clips")) ?? []) {
    const clip = readMidiClip(trackId, clipId, value);
    if (clip) clips.push(clip);
  }
  clips.sort((a, b) => a.startS - b.startS || (a.id < b.id ? -1 : 1));
  const instrument = f.get("instrument");
  const volume = f.get("volume_db");
  const pan = f.get("pan");
  const order = f.get("order");
  return {
    id: trackId,
    name,
    order: typeof order === "string" ? order : "",
    instrument: wholeIn(instrument, 0, MAX_INSTRUMENT) ? instrument : 0,
    volumeDb: finite(volume) ? volume : 0,
    pan: finite(pan) && pan >= -1 && pan <= 1 ? pan : 0,
    mute: f.get("mute") === true,
    solo: f.get("solo") === true,
    clips,
  };
}

/** The MIDI tracks in display order (order key, ties by id, as docs_model sorts). */
export function readMidiTracks(doc: Y.Doc): MidiTrack[] {
  const tracks: MidiTrack[] = [];
  for (const [id, raw] of tracksOf(doc).entries()) {
    const track = readMidiTrack(id, raw);
    if (track) tracks.push(track);
  }
  return tracks.sort((a, b) => (a.order !== b.order ? (a.order < b.order ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function findMidiClip(tracks: MidiTrack[], trackId: string, clipId: string): MidiClip | null {
  return tracks.find((t) => t.id === trackId)?.clips.find((c) => c.id === clipId) ?? null;
}

// ---------------------------------------------------------------- writes

function midiClipsMap(doc: Y.Doc, trackId: string): Y.Map<unknown> {
  const track = trackMap(doc, trackId);
  let clips = track.get("midi_clips");
  if (clips === undefined || clips === null) {
    // Tracks written before MIDI clips existed get their Map here (as docs_model does).
    clips = new Y.Map<unknown>();
    track.set("midi_clips", clips);
  }
  if (!(clips instanceof Y.Map)) throw new Error(`track ${trackId} has no MIDI clip map`);
  return clips;
}

function midiClipMap(doc: Y.Doc, trackId: string, clipId: string): Y.Map<unknown> {
  const clip = midiClipsMap(doc, trackId).get(clipId);
  if (!(clip instanceof Y.Map)) throw new Error(`no MIDI clip ${clipId}`);
  return clip;
}

function notesMap(doc: Y.Doc, trackId: string, clipId: string): Y.Map<unknown> {
  const notes = midiClipMap(doc, trackId, clipId).get("notes");
  if (!(notes instanceof Y.Map)) throw new Error(`MIDI clip ${clipId} has no note map`);
  return notes;
}

/** The note's Map; a note a client wrote as a plain object becomes a Map (same id, same fields) first. */
function noteMap(doc: Y.Doc, trackId: string, clipId: string, noteId: string): Y.Map<unknown> | null {
  const notes = notesMap(doc, trackId, clipId);
  const note = notes.get(noteId);
  if (note instanceof Y.Map) return note;
  const fields = fieldsOf(note);
  if (!fields) return null;
  const upgraded = new Y.Map<unknown>(fields.entries());
  notes.set(noteId, upgraded);
  return upgraded;
}

/** A whole number clamped to lo..hi (what docs_model accepts for pitch, velocity, program). */
export const clampWhole = (value: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(Number.isFinite(value) ? value : lo)));
const startOk = (beats: number): number => (Number.isFinite(beats) ? Math.max(0, beats) : 0);

/** A MIDI track at the end of the track list, playing GM program `instrument`. */
export function addMidiTrack(doc: Y.Doc, name: string, instrument = 0): string {
  const id = newId();
  doc.transact(() => {
    let last: string | null = null;
    // After every track, MIDI or not (readTracks leaves MIDI tracks out).
    for (const raw of tracksOf(doc).values()) {
      const order = raw instanceof Y.Map ? raw.get("order") : null;
      if (typeof order === "string" && order && (last === null || order > last)) last = order;
    }
    const entry = new Y.Map<unknown>();
    entry.set("name", name);
    entry.set("kind", "midi");
    entry.set("order", orderBetween(last, null));
    entry.set("volume_db", 0);
    entry.set("pan", 0);
    entry.set("mute", false);
    entry.set("solo", false);
    entry.set("asset_id", null);
    entry.set("instrument", clampWhole(instrument, 0, MAX_INSTRUMENT));
    entry.set("clips", new Y.Map());
    entry.set("effects", new Y.Array());
    entry.set("midi_clips", new Y.Map());
    tracksOf(doc).set(id, entry);
  });
  return id;
}

export function setInstrument(doc: Y.Doc, trackId: string, instrument: number): void {
  doc.transact(() => trackMap(doc, trackId).set("instrument", clampWhole(instrument, 0, MAX_INSTRUMENT)));
}

/** An empty MIDI clip at `startS` lasting `durationS` (> 0); returns its id. */
export function addMidiClip(doc: Y.Doc, trackId: string, startS: number, durationS: number): string {
  if (!(durationS > 0)) throw new Error(`a MIDI clip lasts more than 0 s, got ${durationS}`);
  const id = newId();
  doc.transact(() => {
    const clip = new Y.Map<unknown>();
    clip.set("start_s", Math.max(0, startS));
    clip.set("duration_s", durationS);
    clip.set("notes", new Y.Map());
    midiClipsMap(doc, trackId).set(id, clip);
  });
  return id;
}

export function moveMidiClip(doc: Y.Doc, trackId: string, clipId: string, startS: number): void {
  doc.transact(() => midiClipMap(doc, trackId, clipId).set("start_s", Math.max(0, startS)));
}

/** Set how long the clip plays (notes past its end are cut, not deleted). */
export function resizeMidiClip(doc: Y.Doc, trackId: string, clipId: string, durationS: number): void {
  if (!(durationS > 0)) return;
  doc.transact(() => midiClipMap(doc, trackId, clipId).set("duration_s", durationS));
}

export function removeMidiClip(doc: Y.Doc, trackId: string, clipId: string): void {
  doc.transact(() => midiClipsMap(doc, trackId).delete(clipId));
}

export interface NoteFields {
  pitch: number;
  startBeats: number;
  lengthBeats: number;
  velocity?: number;
}

/** Add a note (its own Map under a fresh id); returns the id, or null when the clip is full. */
export function addNote(doc: Y.Doc, trackId: string, clipId: string, fields: NoteFields): string | null {
  if (!(fields.lengthBeats > 0)) throw new Error(`a note lasts more than 0 beats, got ${fields.lengthBeats}`);
  const id = newId();
  let added = false;
  doc.transact(() => {
    const notes = notesMap(doc, trackId, clipId);
    if (notes.size >= MAX_NOTES) return;
    const note = new Y.Map<unknown>();
    note.set("pitch", clampWhole(fields.pitch, MIN_PITCH, MAX_PITCH));
    note.set("velocity", clampWhole(fields.velocity ?? DEFAULT_VELOCITY, 1, 127));
    note.set("start_beats", startOk(fields.startBeats));
    note.set("length_beats", fields.lengthBeats);
    notes.set(id, note);
    added = true;
  });
  return added ? id : null;
}

export type NoteEdit = Partial<Omit<NoteFields, "lengthBeats"> & { lengthBeats: number }>;

/**
 * Set the given fields of a note in place (the note keeps its id and Map, so a peer's
 * edit of another field merges). A note a peer deleted meanwhile is left deleted.
 */
export function updateNote(doc: Y.Doc, trackId: string, clipId: string, noteId: string, edit: NoteEdit): void {
  doc.transact(() => {
    const note = noteMap(doc, trackId, clipId, noteId);
    if (!note) return;
    if (edit.pitch !== undefined) note.set("pitch", clampWhole(edit.pitch, MIN_PITCH, MAX_PITCH));
    if (edit.velocity !== undefined) note.set("velocity", clampWhole(edit.velocity, 1, 127));
    if (edit.startBeats !== undefined) note.set("start_beats", startOk(edit.startBeats));
    if (edit.lengthBeats !== undefined && edit.lengthBeats > 0 && Number.isFinite(edit.lengthBeats)) note.set("length_beats", edit.lengthBeats);
  });
}

export const moveNote = (doc: Y.Doc, trackId: string, clipId: string, noteId: string, startBeats: number, pitch: number): void =>
  updateNote(doc, trackId, clipId, noteId, { startBeats, pitch });

export const resizeNote = (doc: Y.Doc, trackId: string, clipId: string, noteId: string, lengthBeats: number): void =>
  updateNote(doc, trackId, clipId, noteId, { lengthBeats });

export const setVelocity = (doc: Y.Doc, trackId: string, clipId: string, noteId: string, velocity: number): void =>
  updateNote(doc, trackId, clipId, noteId, { velocity });

export function removeNote(doc: Y.Doc, trackId: string, clipId: string, noteId: string): void {
  doc.transact(() => notesMap(doc, trackId, clipId).delete(noteId));
}

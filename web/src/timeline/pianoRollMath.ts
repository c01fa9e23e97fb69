// Piano-roll maths: the grid of pitch rows by beats, snapping, note moves and resizes
// kept in range, pitch names and what a screen reader says. Pure functions; beats count
// from the clip's start, pitches are MIDI note numbers (60 is middle C, "C4").
import { MAX_PITCH, MIN_PITCH, type MidiNote } from "../doc/midi";

/** Grid steps a person can snap to, in beats, with their names. */
export const SNAP_STEPS: ReadonlyArray<{ beats: number; label: string }> = [
  { beats: 1, label: "1 beat" },
  { beats: 0.5, label: "1/2 beat" },
  { beats: 0.25, label: "1/4 beat" },
  { beats: 0.125, label: "1/8 beat" },
  { beats: 1 / 16, label: "1/16 beat" },
];
export const DEFAULT_SNAP_BEATS = 0.25;
/** Height of one pitch row (px). */
export const ROW_PX = 14;
export const DEFAULT_BEAT_PX = 64;
export const PITCH_ROWS = MAX_PITCH - MIN_PITCH + 1;
/** Guards against a float landing just below a grid line (1.9999999 beats). */
const EPSILON = 1e-6;

const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/** "C4" for 60, "A#-1" for 10 (scientific pitch notation, middle C = C4). */
export function pitchName(pitch: number): string {
  const p = Math.round(pitch);
  return `${NAMES[((p % 12) + 12) % 12]}${Math.floor(p / 12) - 1}`;
}

export const isBlackKey = (pitch: number): boolean => NAMES[((Math.round(pitch) % 12) + 12) % 12].includes("#");

/** The row's top (px) of `pitch`: the highest pitch is the top row. */
export const pitchToY = (pitch: number): number => (MAX_PITCH - pitch) * ROW_PX;

/** The pitch of the row at `y` px from the grid's top, kept in 0..127. */
export const yToPitch = (y: number): number => clampPitch(MAX_PITCH - Math.floor(y / ROW_PX));

export const clampPitch = (pitch: number): number => Math.min(MAX_PITCH, Math.max(MIN_PITCH, Math.round(pitch)));

/** `beats` to the nearest multiple of `step` (step <= 0: unchanged). */
export function snapBeats(beats: number, step: number): number {
  if (!(step > 0)) return beats;
  return Math.round(beats / step + EPSILON) * step;
}

/** The start of the grid cell holding `beats` (where a click puts a note). */
export function cellStart(beats: number, step: number): number {
  if (!(step > 0)) return Math.max(0, beats);
  return Math.max(0, Math.floor(beats / step + EPSILON) * step);
}

/** How many beats a clip of `durationS` lasts at `bpm`. */
export const clipBeats = (durationS: number, bpm: number): number => (durationS * (bpm > 0 ? bpm : 120)) / 60;

/** The beats the grid shows: the clip, whole bars, at least one bar, and room past any note. */
export function gridBeats(clipLengthBeats: number, notes: Pick<MidiNote, "startBeats" | "lengthBeats">[], beatsPerBar: number): number {
  const bar = beatsPerBar >= 1 ? beatsPerBar : 4;
  const lastNote = notes.reduce((end, n) => Math.max(end, n.startBeats + n.lengthBeats), 0);
  return Math.max(bar, Math.ceil((Math.max(clipLengthBeats, lastNote) - EPSILON) / bar) * bar);
}

export interface NotePlace {
  pitch: number;
  startBeats: number;
  lengthBeats: number;
}

/**
 * `note` moved by `dBeats` and `dPitch`: the start snapped to `step` (when step > 0) and
 * kept at 0 or after, the pitch kept in 0..127.
 */
export function movedNote(note: NotePlace, dBeats: number, dPitch: number, step: number): NotePlace {
  const start = Math.max(0, snapBeats(note.startBeats + dBeats, step));
  return { pitch: clampPitch(note.pitch + dPitch), startBeats: start, lengthBeats: note.lengthBeats };
}

/** `note`'s length changed by `dBeats`, snapped to `step`, never shorter than one step (or 1/64 beat). */
export function resizedNote(note: NotePlace, dBeats: number, step: number): NotePlace {
  const shortest = step > 0 ? step : 1 / 64;
  const end = snapBeats(note.startBeats + note.lengthBeats + dBeats, step);
  return { ...note, lengthBeats: Math.max(shortest, end - note.startBeats) };
}

/** A position in beats from the clip's start as "bar.beat" (1.1 is the clip's start), with a fraction when off the beat. */
export function formatBeats(beats: number, beatsPerBar: number): string {
  const bar = beatsPerBar >= 1 ? Math.floor(beatsPerBar) : 4;
  const whole = Math.floor(beats + EPSILON);
  const fraction = Math.max(0, beats - whole);
  const beat = `${(whole % bar) + 1}`;
  const rest = fraction > EPSILON ? `+${Number(fraction.toFixed(3))}` : "";
  return `${Math.floor(whole / bar) + 1}.${beat}${rest}`;
}

export const formatLength = (beats: number): string => {
  const n = Number(beats.toFixed(3));
  return `${n} ${n === 1 ? "beat" : "beats"}`;
};

/** What a note says to a screen reader (and its tooltip). */
export const noteLabel = (note: MidiNote, beatsPerBar: number): string =>
  `Note ${pitchName(note.pitch)} at ${formatBeats(note.startBeats, beatsPerBar)}, ${formatLength(note.lengthBeats)}, velocity ${note.velocity}`;

/** The row to scroll to when a clip opens: the middle of its notes, else middle C. */
export function centrePitch(notes: Pick<MidiNote, "pitch">[]): number {
  if (notes.length === 0) return 60;
  let lo = MAX_PITCH;
  let hi = MIN_PITCH;
  for (const n of notes) {
    lo = Math.min(lo, n.pitch);
    hi = Math.max(hi, n.pitch);
  }
  return Math.round((lo + hi) / 2);
}

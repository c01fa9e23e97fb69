// Checks for the song settings form: what the user typed, or why it cannot be used.
export const MIN_BPM = 20;
export const MAX_BPM = 300;
const BEAT_UNITS = [1, 2, 4, 8, 16, 32];

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function checkBpm(input: string): Checked<number> {
  const text = input.trim().replace(",", ".");
  const bpm = Number(text);
  if (!text || !Number.isFinite(bpm)) return { ok: false, error: "Tempo must be a number of beats per minute." };
  if (bpm < MIN_BPM || bpm > MAX_BPM) return { ok: false, error: `Tempo must be between ${MIN_BPM} and ${MAX_BPM} BPM.` };
  return { ok: true, value: Math.round(bpm * 100) / 100 };
}

/** "4/4", "3/4", "6/8", "7/8", "12/8"...: 1–99 beats of a whole, half, quarter... note. */
export function checkTimeSignature(input: string): Checked<string> {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{1,2})\s*$/.exec(input);
  const beats = match ? Number(match[1]) : 0;
  const unit = match ? Number(match[2]) : 0;
  if (!match || beats < 1 || !BEAT_UNITS.includes(unit)) {
    return { ok: false, error: "Time signature must look like 4/4, 3/4 or 6/8 (the beat is 1, 2, 4, 8, 16 or 32)." };
  }
  return { ok: true, value: `${beats}/${unit}` };
}

/** A key is free text ("A minor", "F#", "Dorian on D"); empty means none. */
export function checkKey(input: string): Checked<string | null> {
  const key = input.replace(/\s+/g, " ").trim();
  if (key.length > 40) return { ok: false, error: "Key must be at most 40 characters." };
  return { ok: true, value: key || null };
}

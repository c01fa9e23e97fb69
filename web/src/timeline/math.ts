// Timeline maths: seconds, beats and bars from the song's tempo and time signature,
// the grid for a zoom level, snapping, pixels and the limits of clip moves and trims.
// Pure functions; a beat is the time signature's unit (at 6/8 a beat is an eighth).

export interface TimeGrid {
  bpm: number;
  beatsPerBar: number;
  beatUnit: number;
}

/** Guards against a float landing just below a grid line (1.9999999 beats). */
const EPSILON = 1e-6;

const safeBpm = (g: TimeGrid): number => (g.bpm > 0 && Number.isFinite(g.bpm) ? g.bpm : 120);
const safeBeats = (g: TimeGrid): number => (g.beatsPerBar >= 1 ? Math.floor(g.beatsPerBar) : 4);

export const secondsPerBeat = (g: TimeGrid): number => 60 / safeBpm(g);
export const secondsPerBar = (g: TimeGrid): number => secondsPerBeat(g) * safeBeats(g);
export const secondsToBeats = (timeS: number, g: TimeGrid): number => timeS / secondsPerBeat(g);
export const beatsToSeconds = (beats: number, g: TimeGrid): number => beats * secondsPerBeat(g);
/** Bars elapsed (0-based, fractional): 0 at the song's start. */
export const secondsToBars = (timeS: number, g: TimeGrid): number => timeS / secondsPerBar(g);
/** The start of 1-based `bar` in seconds. */
export const barToSeconds = (bar: number, g: TimeGrid): number => (bar - 1) * secondsPerBar(g);

/** Bar (1-based), beat (1-based) and the fraction of the beat at `timeS`. */
export function barBeat(timeS: number, g: TimeGrid): { bar: number; beat: number; fraction: number } {
  const beats = Math.max(0, secondsToBeats(Math.max(0, timeS), g) + EPSILON);
  const whole = Math.floor(beats);
  const perBar = safeBeats(g);
  return { bar: Math.floor(whole / perBar) + 1, beat: (whole % perBar) + 1, fraction: Math.max(0, beats - whole - EPSILON) };
}

/** "bar.beat.thousandths" (1.1.000 is the song's start); `ticks: false` gives "bar.beat". */
export function formatBarBeat(timeS: number, g: TimeGrid, ticks = true): string {
  const { bar, beat, fraction } = barBeat(timeS, g);
  if (!ticks) return `${bar}.${beat}`;
  const thousandths = Math.min(999, Math.floor(fraction * 1000 + EPSILON));
  return `${bar}.${beat}.${String(thousandths).padStart(3, "0")}`;
}

/** "m:ss.mmm" (or "m:ss" with `ms: false`); hours roll into minutes (75:02.500). */
export function formatClock(timeS: number, ms = true): string {
  const t = Number.isFinite(timeS) ? Math.max(0, timeS) : 0;
  const totalMs = ms ? Math.round(t * 1000) : Math.floor(t) * 1000;
  const minutes = Math.floor(totalMs / 60000);
  const seconds = Math.floor((totalMs % 60000) / 1000);
  const rest = totalMs % 1000;
  const base = `${minutes}:${String(seconds).padStart(2, "0")}`;
  return ms ? `${base}.${String(rest).padStart(3, "0")}` : base;
}

/** A duration for people: "12.5 s", "2 min 5.0 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  const minutes = Math.floor(s / 60);
  return `${minutes} min ${(s - minutes * 60).toFixed(1)} s`;
}

// ---------------------------------------------------------------- pixels and zoom

export const MIN_PX_PER_S = 2;
export const MAX_PX_PER_S = 1200;
export const DEFAULT_PX_PER_S = 48;
export const ZOOM_STEP = 1.25;

export const secondsToPx = (timeS: number, pxPerS: number): number => timeS * pxPerS;
export const pxToSeconds = (px: number, pxPerS: number): number => (pxPerS > 0 ? px / pxPerS : 0);

export function clampZoom(pxPerS: number): number {
  if (!Number.isFinite(pxPerS)) return DEFAULT_PX_PER_S;
  return Math.min(MAX_PX_PER_S, Math.max(MIN_PX_PER_S, pxPerS));
}

/** Zoom by `factor` keeping the time under `anchorPx` (from the lanes' left edge in view) still. */
export function zoomAround(pxPerS: number, factor: number, scrollPx: number, anchorPx: number): { pxPerS: number; scrollPx: number } {
  const next = clampZoom(pxPerS * factor);
  const anchorS = pxToSeconds(scrollPx + anchorPx, pxPerS);
  return { pxPerS: next, scrollPx: Math.max(0, anchorS * next - anchorPx) };
}

// ---------------------------------------------------------------- grid

export type GridLevel = "bars" | "bar" | "beat" | "sub";

export interface GridStep {
  /** Seconds between two grid lines (and the snapping step). */
  stepS: number;
  level: GridLevel;
  /** Beats (for "beat"/"sub") or bars (for "bar"/"bars") per step. */
  count: number;
}

export const MIN_GRID_PX = 12;

/** The finest grid whose lines are at least `minPx` apart: subdivisions, beats, bars, or groups of bars. */
export function gridStep(g: TimeGrid, pxPerS: number, minPx = MIN_GRID_PX): GridStep {
  const beat = secondsPerBeat(g);
  const bar = secondsPerBar(g);
  const fits = (s: number) => s * pxPerS >= minPx - EPSILON;
  for (const division of [4, 2]) if (fits(beat / division)) return { stepS: beat / division, level: "sub", count: 1 / division };
  if (fits(beat)) return { stepS: beat, level: "beat", count: 1 };
  // Whole beats between beat and bar (2 beats in 4/4, 3 in 6/8) keep lines on the beat.
  const perBar = safeBeats(g);
  for (let n = 2; n < perBar; n++) if (perBar % n === 0 && fits(beat * n)) return { stepS: beat * n, level: "beat", count: n };
  if (fits(bar)) return { stepS: bar, level: "bar", count: 1 };
  let bars = 2;
  while (!fits(bar * bars) && bars < 1 << 20) bars *= 2;
  return { stepS: bar * bars, level: "bars", count: bars };
}

export interface GridLine {
  timeS: number;
  /** "bar" lines start a bar; "beat" lines fall on a beat; "sub" between beats. */
  kind: "bar" | "beat" | "sub";
  /** The 1-based bar the line is in. */
  bar: number;
}

/** Grid lines from `fromS` to `toS` (inclusive, clamped at 0), at most `limit` of them. */
export function gridLines(g: TimeGrid, fromS: number, toS: number, pxPerS: number, minPx = MIN_GRID_PX, limit = 5000): GridLine[] {
  const { stepS } = gridStep(g, pxPerS, minPx);
  const beat = secondsPerBeat(g);
  const perBar = safeBeats(g);
  const lines: GridLine[] = [];
  const first = Math.max(0, Math.ceil(Math.max(0, fromS) / stepS - EPSILON));
  for (let i = first; lines.length < limit; i++) {
    const timeS = i * stepS;
    if (timeS > toS + EPSILON) break;
    const beats = timeS / beat;
    const wholeBeat = Math.round(beats);
    const onBeat = Math.abs(beats - wholeBeat) < 1e-6;
    const kind = onBeat ? (wholeBeat % perBar === 0 ? "bar" : "beat") : "sub";
    lines.push({ timeS, kind, bar: Math.floor((onBeat ? wholeBeat : beats) / perBar + EPSILON) + 1 });
  }
  return lines;
}

/** `timeS` on the nearest multiple of `stepS` (never below 0); unchanged when snapping is off. */
export function snapTime(timeS: number, stepS: number, enabled = true): number {
  const t = Math.max(0, timeS);
  if (!enabled || !(stepS > 0)) return t;
  return Math.max(0, Math.round(t / stepS) * stepS);
}

/** Move `timeS` one grid step (direction ±1) from the grid line it is on or next to. */
export function stepTime(timeS: number, stepS: number, direction: 1 | -1): number {
  if (!(stepS > 0)) return Math.max(0, timeS);
  const position = timeS / stepS;
  const nearest = Math.round(position);
  const onLine = Math.abs(position - nearest) < 1e-6;
  const next = onLine ? nearest + direction : direction > 0 ? Math.ceil(position) : Math.floor(position);
  return Math.max(0, next * stepS);
}

// ---------------------------------------------------------------- clips

export interface ClipSpan {
  startS: number;
  offsetS: number;
  durationS: number;
}

/** Shortest clip a trim may leave. */
export const MIN_CLIP_S = 0.05;

/** A clip moved to `startS` (never before 0). */
export const clampMove = (startS: number): number => (Number.isFinite(startS) ? Math.max(0, startS) : 0);

/**
 * Move a clip's left edge to `newStartS`: the audio stays where it is in the song, so the
 * offset moves with the edge. The offset cannot go below 0 (the asset's start), the
 * clip's start below 0, nor the clip shrink under `minS`.
 */
export function trimStart(clip: ClipSpan, newStartS: number, minS = MIN_CLIP_S): ClipSpan {
  const end = clip.startS + clip.durationS;
  const earliest = Math.max(0, clip.startS - clip.offsetS);
  const latest = Math.max(clip.startS, end - minS);
  const start = Math.min(latest, Math.max(earliest, newStartS));
  const delta = start - clip.startS;
  return { startS: start, offsetS: Math.max(0, clip.offsetS + delta), durationS: end - start };
}

/** Move a clip's right edge to `newEndS`: at least `minS` long, not past the asset's end when known. */
export function trimEnd(clip: ClipSpan, newEndS: number, assetDurationS: number | null, minS = MIN_CLIP_S): ClipSpan {
  let duration = Math.max(minS, newEndS - clip.startS);
  if (assetDurationS !== null && assetDurationS > 0) {
    duration = Math.min(duration, Math.max(minS, assetDurationS - clip.offsetS));
  }
  return { ...clip, durationS: duration };
}

/** Does [startS, startS + durationS) meet the visible range [fromS, toS]? */
export const intersects = (startS: number, durationS: number, fromS: number, toS: number): boolean =>
  startS <= toS && startS + durationS >= fromS;

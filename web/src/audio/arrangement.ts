// The arrangement's arithmetic, as the server renders it (audio_services/arrangement.py
// and mixing.py), so that what the browser plays is what the render gives:
//
// - a clip plays its region (offset_s .. offset_s + duration_s of the asset) loop_count
//   times back to back from start_s, at gain_db, faded in and out over its whole played
//   length: a fade's gain at x (0..1 through it) is x (linear), sin(x·π/2) (equal power)
//   or x² (exponential); a fade-out is the same curve read backwards;
// - an automation lane is breakpoints; before the first its value, after the last the
//   last's, between two the earlier point's curve: linear, hold, or smooth (a cosine ease);
// - the mixer's constant-power pan law: mono left cos θ, right sin θ with θ = (pan+1)·π/4
//   (a hard pan leaves the other side exactly silent); stereo tracks the same × √2, as a
//   balance; a volume lane's level is at most +24 dB.
//
// Pure functions of seconds; the player turns them into Web Audio automation (plans of
// constant steps and sampled ramps).
import type { Clip, FadeCurve, LaneCurve, Track } from "../doc/model";

export type ClipTiming = Pick<Clip, "startS" | "offsetS" | "durationS" | "loopCount" | "gainDb" | "fadeInS" | "fadeOutS" | "fadeInCurve" | "fadeOutCurve">;
export type LaneBreakpoint = { timeS: number; value: number; curve: LaneCurve };
export type StripSettings = Pick<Track, "volumeDb" | "pan"> & { volumeLane: LaneBreakpoint[]; panLane: LaneBreakpoint[] };

/** Loudest a volume lane plays (dB), as the renderer caps it. */
export const LANE_MAX_DB = 24;
/** Ramps are sampled this often for setValueCurveAtTime (Web Audio interpolates between). */
export const SAMPLES_PER_S = 200;
export const MAX_CURVE_SAMPLES = 4096;

export const dbToAmplitude = (db: number): number => Math.pow(10, db / 20);
const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/** Gain (0..1) of a fade-in at `x` (0..1 through the fade). */
export function fadeGain(curve: FadeCurve, x: number): number {
  const t = clamp(x, 0, 1);
  if (curve === "equal_power") return Math.sin((t * Math.PI) / 2);
  if (curve === "exponential") return t * t;
  return t;
}

export const clipLength = (clip: Pick<ClipTiming, "durationS" | "loopCount">): number => clip.durationS * clip.loopCount;

/** The clip's gain (its gain_db and fades) `playedS` seconds after it starts. */
export function clipEnvelope(clip: ClipTiming, playedS: number): number {
  let gain = dbToAmplitude(clip.gainDb);
  if (clip.fadeInS > 0) gain *= fadeGain(clip.fadeInCurve, playedS / clip.fadeInS);
  if (clip.fadeOutS > 0) gain *= fadeGain(clip.fadeOutCurve, (clipLength(clip) - playedS) / clip.fadeOutS);
  return gain;
}

export interface ClipPlayhead {
  /** Which repeat of the region plays (0-based). */
  loop: number;
  /** Seconds into the current repeat. */
  inLoopS: number;
  /** Where in the asset: offset_s + inLoopS. */
  assetS: number;
}

/** What the clip plays at song time `songS` (null before or after it). */
export function clipPlayhead(clip: ClipTiming, songS: number): ClipPlayhead | null {
  const played = songS - clip.startS;
  if (!(played >= 0) || played >= clipLength(clip)) return null;
  const loop = Math.min(clip.loopCount - 1, Math.floor(played / clip.durationS));
  const inLoopS = Math.max(0, played - loop * clip.durationS);
  return { loop, inLoopS, assetS: clip.offsetS + inLoopS };
}

/** A lane's value at `timeS` (points in time order, at least one). */
export function laneValue(points: LaneBreakpoint[], timeS: number): number {
  if (points.length === 0) throw new Error("a lane without points has no value");
  if (timeS < points[0].timeS) return points[0].value;
  // The last point at or before timeS (the renderer's searchsorted(side="right") - 1).
  let low = 0;
  let high = points.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (points[mid].timeS <= timeS) low = mid;
    else high = mid - 1;
  }
  const from = points[low];
  const to = points[Math.min(low + 1, points.length - 1)];
  const span = to.timeS - from.timeS;
  let fraction = span > 0 ? clamp((timeS - from.timeS) / span, 0, 1) : 0;
  if (from.curve === "hold") fraction = 0;
  else if (from.curve === "smooth") fraction = (1 - Math.cos(Math.PI * fraction)) / 2;
  return from.value + (to.value - from.value) * fraction;
}

/** The mixer's constant-power gains (left, right) for `pan`; stereo tracks as a balance. */
export function panGains(pan: number, channels: number): [number, number] {
  const position = clamp(Number.isFinite(pan) ? pan : 0, -1, 1);
  const angle = ((position + 1) * Math.PI) / 4;
  // cos(π/2) is 6e-17, not 0: a hard pan must leave the other side silent.
  const balance = channels === 2 ? Math.SQRT2 : 1;
  return [position < 1 ? Math.cos(angle) * balance : 0, position > -1 ? Math.sin(angle) * balance : 0];
}

/** A track's left and right gains at `timeS`: its lanes where they have points, else its fixed volume and pan. */
export function stripGains(strip: StripSettings, channels: number, timeS: number): [number, number] {
  const db = strip.volumeLane.length ? Math.min(LANE_MAX_DB, laneValue(strip.volumeLane, timeS)) : strip.volumeDb;
  const pan = strip.panLane.length ? laneValue(strip.panLane, timeS) : strip.pan;
  const scale = dbToAmplitude(db);
  const [left, right] = panGains(pan, channels);
  return [scale * left, scale * right];
}

// ---------------------------------------------------------------- plans for AudioParams

/** A stretch of song time in which a parameter is constant, or moves (a ramp to sample). */
export interface PlanStep {
  fromS: number;
  toS: number;
  ramp: boolean;
}

/** [fromS, toS) cut at `breaks`, each piece marked moving when `moves(a, b)`. */
function cut(breaks: number[], fromS: number, toS: number, moves: (a: number, b: number) => boolean): PlanStep[] {
  const inside = breaks.filter((t) => t > fromS && t < toS).sort((a, b) => a - b);
  const edges = [fromS, ...inside, toS].filter((t, i, all) => i === 0 || t > all[i - 1]);
  const steps: PlanStep[] = [];
  for (let i = 0; i + 1 < edges.length; i++) steps.push({ fromS: edges[i], toS: edges[i + 1], ramp: moves(edges[i], edges[i + 1]) });
  return steps;
}

/** The clip's gain over song time [fromS, toS): ramps through the fades, constant between. */
export function envelopePlan(clip: ClipTiming, fromS: number, toS: number): PlanStep[] {
  const start = clip.startS;
  const end = start + clipLength(clip);
  const fadeInEnd = start + clip.fadeInS;
  const fadeOutStart = end - clip.fadeOutS;
  const moves = (a: number, b: number) => (clip.fadeInS > 0 && a < fadeInEnd) || (clip.fadeOutS > 0 && b > fadeOutStart);
  return cut([fadeInEnd, fadeOutStart], Math.max(fromS, start), Math.min(toS, end), moves);
}

/** Whether a lane changes between song times a and b (a and b with no point strictly between). */
function laneMoves(points: LaneBreakpoint[], a: number, b: number): boolean {
  if (points.length < 2 || b <= points[0].timeS || a >= points[points.length - 1].timeS) return false;
  let i = 0;
  while (i + 1 < points.length && points[i + 1].timeS <= a) i++;
  const next = points[i + 1];
  return points[i].curve !== "hold" && next !== undefined && next.value !== points[i].value;
}

/**
 * The track's gains over song time [fromS, toS) (toS may be Infinity: the plan then ends
 * with a constant step from the last point on).
 */
export function stripPlan(strip: StripSettings, fromS: number, toS: number): PlanStep[] {
  const times = [...strip.volumeLane, ...strip.panLane].map((p) => p.timeS);
  const last = times.length ? Math.max(...times) : fromS;
  const end = Number.isFinite(toS) ? toS : Math.max(fromS, last) + 1;
  const steps = cut(times, fromS, end, (a, b) => laneMoves(strip.volumeLane, a, b) || laneMoves(strip.panLane, a, b));
  if (!Number.isFinite(toS) && steps.length) steps[steps.length - 1].toS = Infinity;
  return steps;
}

/** Seconds before a ramp's end its last sample is taken: a lane that steps at a point
 * (hold) steps at the next event, not over the ramp's last sample interval. */
const LEFT_LIMIT_S = 1e-7;

/**
 * `f` sampled over [fromS, toS) for setValueCurveAtTime: both ends included (the end as
 * its value just before toS), SAMPLES_PER_S apart at most (capped).
 */
export function sampleRamp(f: (timeS: number) => number, fromS: number, toS: number): Float32Array {
  const count = Math.min(MAX_CURVE_SAMPLES, Math.max(2, Math.ceil((toS - fromS) * SAMPLES_PER_S) + 1));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const t = fromS + ((toS - fromS) * i) / (count - 1);
    out[i] = f(i === count - 1 ? Math.max(fromS, toS - LEFT_LIMIT_S) : t);
  }
  return out;
}

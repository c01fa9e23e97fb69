// Drawing automation lanes: where a value sits in the lane's height, the lane's line over
// the part of the song in view, and values as people read them. Pure functions.
import { laneValue, type LaneBreakpoint } from "../audio/arrangement";
import type { LaneName } from "../doc/model";

/** The values a lane's height spans, bottom to top (a volume lane may go to +24 dB; higher is drawn at the top). */
export const LANE_RANGE: Record<LaneName, { low: number; high: number; step: number; fine: number }> = {
  volume: { low: -60, high: 12, step: 1, fine: 0.1 },
  pan: { low: -1, high: 1, step: 0.05, fine: 0.01 },
};

/** Height fraction (0 top .. 1 bottom) of `value`. */
export function valueToY(lane: LaneName, value: number): number {
  const { low, high } = LANE_RANGE[lane];
  return Math.min(1, Math.max(0, (high - value) / (high - low)));
}

/** `value` on the lane's fine step (0.1 dB, 0.01 of pan), without float dust (-6, not -6.000000000000001). */
export function roundToLane(lane: LaneName, value: number): number {
  const perUnit = Math.round(1 / LANE_RANGE[lane].fine);
  return Math.round(value * perUnit) / perUnit;
}

/** The value at height fraction `y` (0 top .. 1 bottom), rounded to the lane's fine step. */
export function yToValue(lane: LaneName, y: number): number {
  const { low, high } = LANE_RANGE[lane];
  return roundToLane(lane, high - Math.min(1, Math.max(0, y)) * (high - low));
}

/** Samples per smooth segment drawn. */
const SMOOTH_SAMPLES = 24;

/**
 * The lane's line from `fromS` to `toS` as (time, value) vertices: flat before the first
 * point and after the last, straight for linear segments, a step for hold, a sampled
 * ease for smooth. `fixed` is drawn flat when the lane has no points.
 */
export function laneLine(points: LaneBreakpoint[], fixed: number, fromS: number, toS: number): Array<[number, number]> {
  if (points.length === 0) return [[fromS, fixed], [toS, fixed]];
  const line: Array<[number, number]> = [[fromS, laneValue(points, fromS)]];
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const next = points[i + 1];
    if (point.timeS > toS) break;
    if (next && next.timeS < fromS) continue;
    if (point.timeS >= fromS) line.push([point.timeS, point.value]);
    if (!next) break;
    const end = Math.min(next.timeS, toS);
    if (point.curve === "hold") {
      line.push([end, point.value]);
    } else if (point.curve === "smooth") {
      const start = Math.max(point.timeS, fromS);
      for (let k = 1; k < SMOOTH_SAMPLES; k++) {
        const t = start + ((end - start) * k) / SMOOTH_SAMPLES;
        line.push([t, laneValue(points, t)]);
      }
    }
  }
  const last = points[points.length - 1];
  line.push([toS, toS >= last.timeS ? last.value : laneValue(points, toS)]);
  return line;
}

const MINUS = "\u2212";

/** "−6.0 dB", "+3.5 dB"; pans as "C", "L 40", "R 100". */
export function formatLaneValue(lane: LaneName, value: number): string {
  if (lane === "pan") {
    const amount = Math.round(Math.abs(value) * 100);
    return amount === 0 ? "C" : `${value < 0 ? "L" : "R"} ${amount}`;
  }
  const text = Math.abs(value).toFixed(1);
  return value < -0.05 ? `${MINUS}${text} dB` : `${value > 0.05 ? "+" : ""}${text} dB`;
}

export const LANE_TITLES: Record<LaneName, string> = { volume: "Volume", pan: "Pan" };

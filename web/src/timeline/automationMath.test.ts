import { describe, expect, it } from "vitest";
import type { LaneBreakpoint } from "../audio/arrangement";
import { formatLaneValue, laneLine, valueToY, yToValue } from "./automationMath";

const point = (timeS: number, value: number, curve: LaneBreakpoint["curve"] = "linear"): LaneBreakpoint => ({ timeS, value, curve });

describe("automation lane drawing", () => {
  it("maps values to the lane's height and back", () => {
    expect(valueToY("volume", 12)).toBe(0);
    expect(valueToY("volume", -60)).toBe(1);
    expect(valueToY("volume", 24)).toBe(0); // above the drawn range: at the top
    expect(valueToY("volume", -6)).toBeCloseTo(0.25, 12);
    expect(valueToY("pan", 0)).toBe(0.5);
    expect(yToValue("volume", 0.25)).toBeCloseTo(-6, 9);
    expect(yToValue("pan", 0)).toBe(1);
    expect(yToValue("pan", 2)).toBe(-1);
    expect(yToValue("pan", 0.333)).toBeCloseTo(0.33, 9); // rounded to the lane's fine step
  });

  it("draws the fixed value flat when the lane has no points", () => {
    expect(laneLine([], -6, 2, 10)).toEqual([
      [2, -6],
      [10, -6],
    ]);
  });

  it("draws flat ends, straight linear segments, hold steps and a sampled smooth ease", () => {
    const line = laneLine([point(1, -12), point(3, 0, "hold"), point(5, -6, "smooth"), point(7, 6)], 0, 0, 10);
    expect(line.slice(0, 4)).toEqual([
      [0, -12],
      [1, -12],
      [3, 0],
      [5, 0], // hold: flat to the next point, then the step
    ]);
    expect(line[4]).toEqual([5, -6]);
    const eased = line.slice(5, -2);
    expect(eased).toHaveLength(23);
    expect(eased[11][0]).toBeCloseTo(6, 9);
    expect(eased[11][1]).toBeCloseTo(0, 9); // halfway in time, halfway in value
    expect(line.slice(-2)).toEqual([
      [7, 6],
      [10, 6],
    ]);
  });

  it("draws only what is in view, starting and ending on the line", () => {
    const line = laneLine([point(0, 0), point(10, -10), point(20, 0)], 0, 4, 12);
    expect(line).toEqual([
      [4, -4],
      [10, -10],
      [12, -8],
    ]);
  });

  it("writes values as people read them", () => {
    expect(formatLaneValue("volume", -6)).toBe("\u22126.0 dB");
    expect(formatLaneValue("volume", 3.25)).toBe("+3.3 dB");
    expect(formatLaneValue("volume", 0)).toBe("0.0 dB");
    expect(formatLaneValue("pan", 0)).toBe("C");
    expect(formatLaneValue("pan", -0.4)).toBe("L 40");
    expect(formatLaneValue("pan", 1)).toBe("R 100");
  });
});

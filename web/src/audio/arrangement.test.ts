// The arrangement's arithmetic against the renderer's definitions
// (audio_services/arrangement.py, mixing.py) at hand-computed figures.
import { describe, expect, it } from "vitest";
import {
  clipEnvelope,
  clipLength,
  clipPlayhead,
  envelopePlan,
  fadeGain,
  laneValue,
  panGains,
  sampleRamp,
  stripGains,
  stripPlan,
  type ClipTiming,
  type LaneBreakpoint,
} from "./arrangement";

const clip = (fields: Partial<ClipTiming> = {}): ClipTiming => ({
  startS: 10,
  offsetS: 1,
  durationS: 4,
  loopCount: 1,
  gainDb: 0,
  fadeInS: 0,
  fadeOutS: 0,
  fadeInCurve: "linear",
  fadeOutCurve: "linear",
  ...fields,
});

const point = (timeS: number, value: number, curve: LaneBreakpoint["curve"] = "linear"): LaneBreakpoint => ({ timeS, value, curve });

describe("fade curves", () => {
  it("linear, equal power and exponential gains through a fade-in", () => {
    expect(fadeGain("linear", 0.25)).toBeCloseTo(0.25, 12);
    expect(fadeGain("equal_power", 0.5)).toBeCloseTo(Math.SQRT1_2, 12); // sin(π/4)
    expect(fadeGain("equal_power", 1 / 3)).toBeCloseTo(0.5, 12); // sin(π/6)
    expect(fadeGain("exponential", 0.5)).toBeCloseTo(0.25, 12);
    for (const curve of ["linear", "equal_power", "exponential"] as const) {
      expect(fadeGain(curve, 0)).toBe(0);
      expect(fadeGain(curve, 1)).toBeCloseTo(1, 12);
      expect(fadeGain(curve, -3)).toBe(0);
      expect(fadeGain(curve, 7)).toBeCloseTo(1, 12);
    }
  });

  it("an equal-power crossfade keeps the power constant", () => {
    for (const x of [0.1, 0.3, 0.5, 0.9]) expect(fadeGain("equal_power", x) ** 2 + fadeGain("equal_power", 1 - x) ** 2).toBeCloseTo(1, 12);
  });

  it("the envelope: gain_db, the fade-in from the start, the fade-out read backwards over all loops", () => {
    const c = clip({ gainDb: -6, loopCount: 3, fadeInS: 2, fadeOutS: 4, fadeOutCurve: "exponential" });
    const gain = 10 ** (-6 / 20);
    expect(clipLength(c)).toBe(12);
    expect(clipEnvelope(c, 0)).toBe(0);
    expect(clipEnvelope(c, 1)).toBeCloseTo(gain * 0.5, 12);
    expect(clipEnvelope(c, 5)).toBeCloseTo(gain, 12); // the second loop: no fade restarts
    expect(clipEnvelope(c, 10)).toBeCloseTo(gain * 0.25, 12); // 2 s before the end of a 4 s fade: (1/2)²
    expect(clipEnvelope(c, 12)).toBe(0);
  });
});

describe("loops and seeking", () => {
  it("says which repeat plays at a song time, and where in the asset", () => {
    const c = clip({ loopCount: 3 });
    expect(clipPlayhead(c, 9.99)).toBeNull();
    expect(clipPlayhead(c, 10)).toEqual({ loop: 0, inLoopS: 0, assetS: 1 });
    expect(clipPlayhead(c, 13.5)).toEqual({ loop: 0, inLoopS: 3.5, assetS: 4.5 });
    expect(clipPlayhead(c, 14)).toEqual({ loop: 1, inLoopS: 0, assetS: 1 });
    const late = clipPlayhead(c, 21.25)!;
    expect(late.loop).toBe(2);
    expect(late.inLoopS).toBeCloseTo(3.25, 12);
    expect(late.assetS).toBeCloseTo(4.25, 12);
    expect(clipPlayhead(c, 22)).toBeNull(); // 10 + 3 × 4: over
  });

  it("plans the envelope from a seek inside a fade: a ramp to the fade's end, then constant, then the fade-out", () => {
    const c = clip({ loopCount: 2, fadeInS: 1, fadeOutS: 2 });
    expect(envelopePlan(c, 10.5, Infinity)).toEqual([
      { fromS: 10.5, toS: 11, ramp: true },
      { fromS: 11, toS: 16, ramp: false },
      { fromS: 16, toS: 18, ramp: true },
    ]);
    // A pass that ends before the clip does (a loop range): cut there.
    expect(envelopePlan(c, 0, 12)).toEqual([
      { fromS: 10, toS: 11, ramp: true },
      { fromS: 11, toS: 12, ramp: false },
    ]);
    expect(envelopePlan(clip(), 0, Infinity)).toEqual([{ fromS: 10, toS: 14, ramp: false }]);
    // Fades that meet in the middle leave no constant part.
    expect(envelopePlan(clip({ fadeInS: 2, fadeOutS: 2 }), 0, Infinity)).toEqual([
      { fromS: 10, toS: 12, ramp: true },
      { fromS: 12, toS: 14, ramp: true },
    ]);
  });

  it("samples a ramp with both ends, at most SAMPLES_PER_S apart", () => {
    const ramp = sampleRamp((t) => t, 2, 3);
    expect(ramp.length).toBe(201);
    expect(ramp[0]).toBe(2);
    expect(ramp[200]).toBe(3);
    expect(ramp[100]).toBeCloseTo(2.5, 6);
    expect(sampleRamp((t) => t, 0, 0.001).length).toBe(2);
    expect(sampleRamp((t) => t, 0, 1000).length).toBe(4096);
  });
});

describe("automation lanes", () => {
  const lane = [point(1, -12, "linear"), point(3, 0, "hold"), point(5, -6, "smooth"), point(9, 6)];

  it("holds the first value before the first point and the last after the last", () => {
    expect(laneValue(lane, 0)).toBe(-12);
    expect(laneValue(lane, 1)).toBe(-12);
    expect(laneValue(lane, 9)).toBe(6);
    expect(laneValue(lane, 100)).toBe(6);
    expect(laneValue([point(2, 3)], 0)).toBe(3);
    expect(laneValue([point(2, 3)], 5)).toBe(3);
    expect(() => laneValue([], 1)).toThrow();
  });

  it("linear, hold and smooth segments", () => {
    expect(laneValue(lane, 2)).toBeCloseTo(-6, 12); // halfway from -12 to 0
    expect(laneValue(lane, 2.5)).toBeCloseTo(-3, 12);
    expect(laneValue(lane, 4.99)).toBe(0); // hold keeps 0 until the next point
    expect(laneValue(lane, 5)).toBe(-6);
    // smooth: (1 − cos(π·f)) / 2 of the way; a quarter of the way in time is 14.6 % of it.
    expect(laneValue(lane, 6)).toBeCloseTo(-6 + 12 * ((1 - Math.cos(Math.PI / 4)) / 2), 12);
    expect(laneValue(lane, 7)).toBeCloseTo(0, 12);
  });

  it("two points at one time: the later one rules from there", () => {
    expect(laneValue([point(0, 0), point(2, -10), point(2, -20), point(4, -20)], 2)).toBe(-20);
    expect(laneValue([point(0, 0), point(2, -10), point(2, -20), point(4, -20)], 1)).toBeCloseTo(-5, 12);
  });

  it("plans ramps only where a lane moves", () => {
    const strip = { volumeDb: 0, pan: 0, volumeLane: lane, panLane: [point(4, -1), point(6, 1)] };
    expect(stripPlan(strip, 0, Infinity)).toEqual([
      { fromS: 0, toS: 1, ramp: false },
      { fromS: 1, toS: 3, ramp: true },
      { fromS: 3, toS: 4, ramp: false }, // volume holds, pan not started
      { fromS: 4, toS: 5, ramp: true }, // pan moves
      { fromS: 5, toS: 6, ramp: true },
      { fromS: 6, toS: 9, ramp: true },
      { fromS: 9, toS: Infinity, ramp: false },
    ]);
    expect(stripPlan(strip, 2, 4.5)).toEqual([
      { fromS: 2, toS: 3, ramp: true },
      { fromS: 3, toS: 4, ramp: false },
      { fromS: 4, toS: 4.5, ramp: true },
    ]);
  });
});

describe("the mixer's pan law", () => {
  it("mono: cos and sin of (pan + 1)·π/4, -3 dB each side in the centre, hard pans exactly silent", () => {
    const [l, r] = panGains(0, 1);
    expect(l).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r).toBeCloseTo(Math.SQRT1_2, 12);
    expect(panGains(-1, 1)).toEqual([1, 0]);
    const [hardL, hardR] = panGains(1, 1);
    expect(hardL).toBe(0);
    expect(hardR).toBeCloseTo(1, 12);
    const [halfL, halfR] = panGains(0.5, 1);
    expect(halfL).toBeCloseTo(Math.cos((1.5 * Math.PI) / 4), 12);
    expect(halfR).toBeCloseTo(Math.sin((1.5 * Math.PI) / 4), 12);
    expect(halfL ** 2 + halfR ** 2).toBeCloseTo(1, 12);
  });

  it("stereo: the same law × √2 as a balance (unity in the centre); out-of-range pans are clipped", () => {
    const [l, r] = panGains(0, 2);
    expect(l).toBeCloseTo(1, 12);
    expect(r).toBeCloseTo(1, 12);
    expect(panGains(-1, 2)[0]).toBeCloseTo(Math.SQRT2, 12);
    expect(panGains(-1, 2)[1]).toBe(0);
    expect(panGains(5, 1)).toEqual(panGains(1, 1));
  });

  it("strip gains: lanes in place of the fixed volume and pan, the volume lane capped at +24 dB", () => {
    const fixed = { volumeDb: -6, pan: -1, volumeLane: [], panLane: [] };
    expect(stripGains(fixed, 1, 3)[0]).toBeCloseTo(10 ** (-6 / 20), 12);
    expect(stripGains(fixed, 1, 3)[1]).toBe(0);
    const automated = { volumeDb: -6, pan: -1, volumeLane: [point(0, 0), point(2, 40)], panLane: [point(0, 0)] };
    const [l, r] = stripGains(automated, 1, 0);
    expect(l).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r).toBeCloseTo(Math.SQRT1_2, 12);
    expect(stripGains(automated, 1, 2)[0]).toBeCloseTo(10 ** (24 / 20) * Math.SQRT1_2, 9);
  });
});

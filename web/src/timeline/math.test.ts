import { describe, expect, it } from "vitest";
import {
  barBeat,
  barToSeconds,
  beatsToSeconds,
  clampMove,
  clampZoom,
  formatBarBeat,
  formatClock,
  formatDuration,
  gridLines,
  gridStep,
  intersects,
  MAX_PX_PER_S,
  MIN_PX_PER_S,
  pxToSeconds,
  secondsPerBar,
  secondsPerBeat,
  secondsToBars,
  secondsToBeats,
  secondsToPx,
  snapTime,
  stepTime,
  trimEnd,
  trimStart,
  zoomAround,
} from "./math";

const fourFour = { bpm: 120, beatsPerBar: 4, beatUnit: 4 };
const sixEight = { bpm: 180, beatsPerBar: 6, beatUnit: 8 };
const threeFour = { bpm: 90, beatsPerBar: 3, beatUnit: 4 };

describe("seconds, beats and bars", () => {
  it("converts at 4/4", () => {
    expect(secondsPerBeat(fourFour)).toBe(0.5);
    expect(secondsPerBar(fourFour)).toBe(2);
    expect(secondsToBeats(3, fourFour)).toBe(6);
    expect(beatsToSeconds(6, fourFour)).toBe(3);
    expect(secondsToBars(5, fourFour)).toBe(2.5);
    expect(barToSeconds(3, fourFour)).toBe(4);
  });

  it("counts the time signature's unit as the beat (6/8: eighths)", () => {
    expect(secondsPerBeat(sixEight)).toBeCloseTo(1 / 3);
    expect(secondsPerBar(sixEight)).toBeCloseTo(2);
    expect(barBeat(2, sixEight)).toMatchObject({ bar: 2, beat: 1 });
    expect(barBeat(2, sixEight).fraction).toBeCloseTo(0, 6);
    expect(formatBarBeat(1 / 3 * 5, sixEight)).toBe("1.6.000");
  });

  it("falls back on a usable tempo", () => {
    expect(secondsPerBeat({ bpm: 0, beatsPerBar: 4, beatUnit: 4 })).toBe(0.5);
    expect(secondsPerBar({ bpm: 120, beatsPerBar: 0, beatUnit: 4 })).toBe(2);
  });

  it("formats bar.beat.thousandths without float drift", () => {
    expect(formatBarBeat(0, fourFour)).toBe("1.1.000");
    expect(formatBarBeat(2, fourFour)).toBe("2.1.000");
    expect(formatBarBeat(0.25, fourFour)).toBe("1.1.500");
    expect(formatBarBeat(1.75, fourFour)).toBe("1.4.500");
    // 0.1 * 3 is 0.30000000000000004, 0.6/0.2 is 2.9999999999999996
    expect(formatBarBeat(0.6, { bpm: 300, beatsPerBar: 4, beatUnit: 4 })).toBe("1.4.000");
    expect(formatBarBeat(-3, fourFour)).toBe("1.1.000");
    expect(formatBarBeat(3.25, threeFour, false)).toBe("2.2");
  });

  it("formats clock time", () => {
    expect(formatClock(0)).toBe("0:00.000");
    expect(formatClock(12.5)).toBe("0:12.500");
    expect(formatClock(59.9996)).toBe("1:00.000");
    expect(formatClock(4502.5)).toBe("75:02.500");
    expect(formatClock(12.9, false)).toBe("0:12");
    expect(formatClock(-1)).toBe("0:00.000");
    expect(formatClock(Number.NaN)).toBe("0:00.000");
  });

  it("formats durations", () => {
    expect(formatDuration(12.5)).toBe("12.5 s");
    expect(formatDuration(12.04)).toBe("12 s");
    expect(formatDuration(125)).toBe("2 min 5.0 s");
  });
});

describe("pixels and zoom", () => {
  it("maps seconds and pixels both ways", () => {
    expect(secondsToPx(2.5, 40)).toBe(100);
    expect(pxToSeconds(100, 40)).toBe(2.5);
    expect(pxToSeconds(100, 0)).toBe(0);
  });

  it("clamps zoom", () => {
    expect(clampZoom(0)).toBe(MIN_PX_PER_S);
    expect(clampZoom(1e9)).toBe(MAX_PX_PER_S);
    expect(clampZoom(Number.NaN)).toBeGreaterThan(0);
  });

  it("keeps the anchored time under the pointer", () => {
    const before = 40;
    const { pxPerS, scrollPx } = zoomAround(before, 2, 400, 100);
    expect(pxPerS).toBe(80);
    // 12.5 s was at 500 px; at 80 px/s it is at 1000 px, still 100 px into the view
    expect(scrollPx).toBe(900);
    expect(zoomAround(40, 0.5, 0, 100).scrollPx).toBe(0);
  });
});

describe("grid", () => {
  it("picks the finest step at least 12 px apart", () => {
    // a beat is 0.5 s
    expect(gridStep(fourFour, 200)).toEqual({ stepS: 0.125, level: "sub", count: 0.25 });
    expect(gridStep(fourFour, 60)).toEqual({ stepS: 0.25, level: "sub", count: 0.5 });
    expect(gridStep(fourFour, 24)).toEqual({ stepS: 0.5, level: "beat", count: 1 });
    expect(gridStep(fourFour, 12)).toEqual({ stepS: 1, level: "beat", count: 2 });
    expect(gridStep(fourFour, 6)).toEqual({ stepS: 2, level: "bar", count: 1 });
    expect(gridStep(fourFour, 2)).toEqual({ stepS: 8, level: "bars", count: 4 });
    for (const px of [2, 3, 5, 7, 11, 13, 17, 50, 300, 1200]) {
      expect(gridStep(fourFour, px).stepS * px).toBeGreaterThanOrEqual(12 - 1e-9);
    }
  });

  it("does not group beats that do not divide the bar", () => {
    // 3/4 at 90 bpm: beat 0.667 s; at 10 px/s a beat is 6.7 px, a bar 20 px
    expect(gridStep(threeFour, 10).level).toBe("bar");
  });

  it("lists bar, beat and subdivision lines for a range", () => {
    const lines = gridLines(fourFour, 1.6, 2.6, 60);
    expect(lines.map((l) => l.timeS)).toEqual([1.75, 2, 2.25, 2.5]);
    expect(lines.map((l) => l.kind)).toEqual(["sub", "bar", "sub", "beat"]);
    expect(lines.map((l) => l.bar)).toEqual([1, 2, 2, 2]);
  });

  it("starts at 0 and respects the limit", () => {
    const lines = gridLines(fourFour, -10, 100, 24, 12, 10);
    expect(lines[0]).toEqual({ timeS: 0, kind: "bar", bar: 1 });
    expect(lines).toHaveLength(10);
    expect(gridLines(fourFour, 5, 4, 24)).toEqual([]);
  });

  it("labels bars in 6/8", () => {
    const bars = gridLines(sixEight, 0, 6, 8).filter((l) => l.kind === "bar");
    expect(bars.map((l) => l.bar)).toEqual([1, 2, 3, 4]);
  });

  it("snaps to the nearest line, or not at all", () => {
    expect(snapTime(1.3, 0.5)).toBe(1.5);
    expect(snapTime(1.2, 0.5)).toBe(1);
    expect(snapTime(-0.2, 0.5)).toBe(0);
    expect(snapTime(1.3, 0.5, false)).toBe(1.3);
    expect(snapTime(-1, 0.5, false)).toBe(0);
    expect(snapTime(1.3, 0)).toBe(1.3);
  });

  it("steps one grid line from on or between lines", () => {
    expect(stepTime(1, 0.5, 1)).toBe(1.5);
    expect(stepTime(1, 0.5, -1)).toBe(0.5);
    expect(stepTime(1.2, 0.5, 1)).toBe(1.5);
    expect(stepTime(1.2, 0.5, -1)).toBe(1);
    expect(stepTime(0, 0.5, -1)).toBe(0);
    expect(stepTime(0.3 * 3, 0.3, 1)).toBeCloseTo(1.2);
  });
});

describe("clip limits", () => {
  const clip = { startS: 4, offsetS: 1, durationS: 3 };

  it("never moves before 0", () => {
    expect(clampMove(-2)).toBe(0);
    expect(clampMove(3.5)).toBe(3.5);
    expect(clampMove(Number.NaN)).toBe(0);
  });

  it("trims the start with the offset, not before the asset's start", () => {
    expect(trimStart(clip, 4.5)).toEqual({ startS: 4.5, offsetS: 1.5, durationS: 2.5 });
    expect(trimStart(clip, 3.5)).toEqual({ startS: 3.5, offsetS: 0.5, durationS: 3.5 });
    // offset 1 s: the edge stops 1 s earlier, at the asset's first sample
    expect(trimStart(clip, 0)).toEqual({ startS: 3, offsetS: 0, durationS: 4 });
  });

  it("trims the start no later than the minimum length", () => {
    const t = trimStart(clip, 10, 0.1);
    expect(t.startS).toBeCloseTo(6.9);
    expect(t.durationS).toBeCloseTo(0.1);
    expect(t.offsetS).toBeCloseTo(3.9);
  });

  it("trims the start no earlier than the song's start", () => {
    expect(trimStart({ startS: 1, offsetS: 5, durationS: 2 }, -3)).toEqual({ startS: 0, offsetS: 4, durationS: 3 });
  });

  it("trims the end within the asset when its length is known", () => {
    expect(trimEnd(clip, 9, null)).toEqual({ ...clip, durationS: 5 });
    expect(trimEnd(clip, 9, 5)).toEqual({ ...clip, durationS: 4 });
    expect(trimEnd(clip, 3, 5, 0.1).durationS).toBe(0.1);
    // an offset past the asset's end still leaves the shortest clip
    expect(trimEnd({ startS: 0, offsetS: 6, durationS: 1 }, 2, 5, 0.1).durationS).toBe(0.1);
  });

  it("tells whether a clip meets a range", () => {
    expect(intersects(4, 3, 0, 3.9)).toBe(false);
    expect(intersects(4, 3, 0, 4)).toBe(true);
    expect(intersects(4, 3, 7, 10)).toBe(true);
    expect(intersects(4, 3, 7.01, 10)).toBe(false);
  });
});

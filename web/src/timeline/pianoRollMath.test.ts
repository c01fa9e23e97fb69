import { describe, expect, it } from "vitest";
import {
  ROW_PX,
  cellStart,
  centrePitch,
  clipBeats,
  formatBeats,
  gridBeats,
  isBlackKey,
  movedNote,
  noteLabel,
  pitchName,
  pitchToY,
  resizedNote,
  snapBeats,
  yToPitch,
} from "./pianoRollMath";

describe("pitches", () => {
  it("names pitches in scientific notation, middle C (60) is C4", () => {
    expect([pitchName(60), pitchName(61), pitchName(69), pitchName(0), pitchName(127)]).toEqual(["C4", "C#4", "A4", "C-1", "G9"]);
    expect([60, 61, 62, 63, 64, 65, 66].map(isBlackKey)).toEqual([false, true, false, true, false, false, true]);
  });

  it("maps rows to pitches both ways, the top row being 127, and keeps them in range", () => {
    expect(pitchToY(127)).toBe(0);
    expect(pitchToY(60)).toBe(67 * ROW_PX);
    expect(yToPitch(pitchToY(60) + ROW_PX / 2)).toBe(60);
    expect(yToPitch(-50)).toBe(127);
    expect(yToPitch(1e6)).toBe(0);
  });
});

describe("snapping", () => {
  it("snaps to the nearest step and puts a click at the start of its cell", () => {
    expect(snapBeats(1.1, 0.25)).toBe(1);
    expect(snapBeats(1.13, 0.25)).toBe(1.25);
    expect(snapBeats(0.7, 1)).toBe(1);
    expect(snapBeats(0.7, 0)).toBe(0.7);
    expect(cellStart(1.99, 0.25)).toBe(1.75);
    expect(cellStart(0.75 - 1e-9, 0.25)).toBe(0.75);
    expect(cellStart(-0.3, 0.25)).toBe(0);
    expect(cellStart(1.3, 0)).toBe(1.3);
  });
});

describe("moves and resizes", () => {
  const note = { pitch: 60, startBeats: 1, lengthBeats: 1 };

  it("moves by snapped steps, never before the clip's start nor out of 0..127", () => {
    expect(movedNote(note, 0.3, 2, 0.25)).toEqual({ pitch: 62, startBeats: 1.25, lengthBeats: 1 });
    expect(movedNote(note, -5, 0, 0.25)).toEqual({ pitch: 60, startBeats: 0, lengthBeats: 1 });
    expect(movedNote(note, 0, 100, 0.25).pitch).toBe(127);
    expect(movedNote(note, 0.3, -100, 0).startBeats).toBeCloseTo(1.3);
  });

  it("resizes the end to the grid, never shorter than a step", () => {
    expect(resizedNote(note, 0.6, 0.25)).toEqual({ pitch: 60, startBeats: 1, lengthBeats: 1.5 });
    expect(resizedNote(note, -3, 0.25).lengthBeats).toBe(0.25);
    expect(resizedNote(note, -3, 0).lengthBeats).toBe(1 / 64);
  });
});

describe("the grid", () => {
  it("lasts the clip in whole bars, past the last note, at least a bar", () => {
    expect(clipBeats(4, 120)).toBe(8);
    expect(gridBeats(8, [], 4)).toBe(8);
    expect(gridBeats(5, [], 4)).toBe(8);
    expect(gridBeats(0.5, [], 3)).toBe(3);
    expect(gridBeats(4, [{ startBeats: 6, lengthBeats: 3 }], 4)).toBe(12);
  });

  it("says where a note is as bar.beat from the clip's start", () => {
    expect(formatBeats(0, 4)).toBe("1.1");
    expect(formatBeats(5.5, 4)).toBe("2.2+0.5");
    expect(noteLabel({ id: "n", pitch: 64, velocity: 90, startBeats: 4, lengthBeats: 1 }, 4)).toBe("Note E4 at 2.1, 1 beat, velocity 90");
    expect(centrePitch([])).toBe(60);
    expect(centrePitch([{ pitch: 40 }, { pitch: 71 }])).toBe(56);
  });
});

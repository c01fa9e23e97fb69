// Clip fades and loops, and automation lanes: read tolerantly (docs_model's defaults
// for what a peer got wrong or an older peer never wrote), written valid.
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { addLanePoint, laneField, removeLanePoint, setLanePoints, updateLanePoint } from "./automation";
import { addClip, addTrack, clipEndS, fitClip, moveClipToTrack, readClip, readLane, readTracks, splitClip, trackMap, updateClip } from "./model";

function entry(fields: Record<string, unknown>): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(fields)) m.set(k, v);
  return m;
}

/** A clip record in a document (readers see Y types as they are stored). */
function storedClip(fields: Record<string, unknown>) {
  const doc = new Y.Doc();
  const map = entry({ asset_id: "a", start_s: 1, duration_s: 2, ...fields });
  doc.getMap("probe").set("clip", map);
  return readClip("t", "c", map);
}

describe("reading clip fades and loops", () => {
  it("an older peer's clip (no new keys) reads unfaded and played once", () => {
    expect(storedClip({})).toMatchObject({ fadeInS: 0, fadeOutS: 0, fadeInCurve: "linear", fadeOutCurve: "linear", loopCount: 1 });
  });

  it("reads what is stored", () => {
    const clip = storedClip({ fade_in_s: 0.5, fade_out_s: 1.5, fade_in_curve: "equal_power", fade_out_curve: "exponential", loop_count: 3 });
    expect(clip).toMatchObject({ fadeInS: 0.5, fadeOutS: 1.5, fadeInCurve: "equal_power", fadeOutCurve: "exponential", loopCount: 3 });
    expect(clipEndS(clip!)).toBe(1 + 2 * 3);
  });

  it("junk reads as the defaults", () => {
    const junk = storedClip({ fade_in_s: -1, fade_out_s: "long", fade_in_curve: "s-curve", fade_out_curve: 3, loop_count: 2.5 });
    expect(junk).toMatchObject({ fadeInS: 0, fadeOutS: 0, fadeInCurve: "linear", fadeOutCurve: "linear", loopCount: 1 });
    for (const loops of [0, -2, 1001, Infinity, NaN, "2", true]) expect(storedClip({ loop_count: loops })!.loopCount).toBe(1);
    expect(storedClip({ fade_in_s: NaN, fade_out_s: Infinity })).toMatchObject({ fadeInS: 0, fadeOutS: 0 });
  });

  it("fades that do not fit read the fade-out as 0 (docs_model's rule), counting the loops", () => {
    expect(storedClip({ fade_in_s: 1.5, fade_out_s: 1 })).toMatchObject({ fadeInS: 1.5, fadeOutS: 0 });
    expect(storedClip({ fade_in_s: 1.5, fade_out_s: 1, loop_count: 2 })).toMatchObject({ fadeInS: 1.5, fadeOutS: 1 });
  });
});

describe("reading lanes", () => {
  it("skips unreadable points, defaults bad curves and sorts by time, keeping stored indices", () => {
    const doc = new Y.Doc();
    const lane = new Y.Array<unknown>();
    doc.getMap("probe").set("lane", lane);
    lane.push([
      entry({ time_s: 4, value: -3, curve: "smooth" }),
      entry({ time_s: -1, value: 0 }),
      entry({ time_s: 1, value: "loud" }),
      "point",
      entry({ time_s: 2, value: 1, curve: "zigzag" }),
      entry({ value: 2 }),
      { time_s: 3, value: 0.5, curve: "hold" },
      entry({ time_s: Infinity, value: 0 }),
    ]);
    expect(readLane(lane)).toEqual([
      { timeS: 2, value: 1, curve: "linear", index: 4 },
      { timeS: 3, value: 0.5, curve: "hold", index: 6 },
      { timeS: 4, value: -3, curve: "smooth", index: 0 },
    ]);
    expect(readLane(undefined)).toEqual([]);
    expect(readLane("lane")).toEqual([]);
    expect(readLane(new Y.Text("x"))).toEqual([]);
  });
});

describe("writing clips", () => {
  it("fitClip: whole loops in 1..1000, fades that fit, the edited fade kept", () => {
    expect(fitClip({ durationS: 2, loopCount: 2.6, fadeInS: -1, fadeOutS: 0 })).toEqual({ durationS: 2, loopCount: 3, fadeInS: 0, fadeOutS: 0 });
    expect(fitClip({ durationS: 2, loopCount: 5000, fadeInS: 0, fadeOutS: 0 }).loopCount).toBe(1000);
    expect(fitClip({ durationS: 2, loopCount: 1, fadeInS: 1.5, fadeOutS: 1 }, { fadeInS: 1.5 })).toMatchObject({ fadeInS: 1.5, fadeOutS: 0.5 });
    expect(fitClip({ durationS: 2, loopCount: 1, fadeInS: 1.5, fadeOutS: 1 }, { fadeOutS: 1 })).toMatchObject({ fadeInS: 1, fadeOutS: 1 });
    expect(fitClip({ durationS: 2, loopCount: 1, fadeInS: 9, fadeOutS: 0 })).toMatchObject({ fadeInS: 2, fadeOutS: 0 });
  });

  it("addClip writes every field; updateClip sets fades, curves, loops and gain, keeping the fades valid", () => {
    const doc = new Y.Doc();
    const track = addTrack(doc, "T");
    const id = addClip(doc, track, { assetId: "x", startS: 0, durationS: 2 });
    const stored = (trackMap(doc, track).get("clips") as Y.Map<Y.Map<unknown>>).get(id)!;
    expect(stored.toJSON()).toMatchObject({ fade_in_s: 0, fade_out_s: 0, fade_in_curve: "linear", fade_out_curve: "linear", loop_count: 1 });
    updateClip(doc, track, id, { loopCount: 2, fadeInS: 0.5, fadeInCurve: "equal_power", fadeOutS: 3, fadeOutCurve: "exponential", gainDb: -4 });
    expect(stored.toJSON()).toMatchObject({ loop_count: 2, fade_in_s: 0.5, fade_in_curve: "equal_power", fade_out_s: 3, fade_out_curve: "exponential", gain_db: -4 });
    // Fewer loops: the fade-out shrinks to fit (the doc never holds fades that do not fit).
    updateClip(doc, track, id, { loopCount: 1 });
    expect(readTracks(doc)[0].clips[0]).toMatchObject({ loopCount: 1, fadeInS: 0.5, fadeOutS: 1.5 });
    // A trim keeps them fitting too.
    updateClip(doc, track, id, { durationS: 1 });
    expect(readTracks(doc)[0].clips[0]).toMatchObject({ durationS: 1, fadeInS: 0.5, fadeOutS: 0.5 });
    updateClip(doc, track, id, { fadeInCurve: "bogus" as never, loopCount: -3 });
    expect(readTracks(doc)[0].clips[0]).toMatchObject({ fadeInCurve: "equal_power", loopCount: 1 });
  });

  it("a move to another track keeps fades and loops; a split refuses looped clips and shares the fades", () => {
    const doc = new Y.Doc();
    const a = addTrack(doc, "A");
    const b = addTrack(doc, "B");
    addClip(doc, a, { assetId: "x", startS: 0, durationS: 4, loopCount: 2, fadeInS: 1, fadeOutCurve: "exponential", fadeOutS: 2 });
    moveClipToTrack(doc, readTracks(doc)[0].clips[0], b, 3);
    const moved = readTracks(doc)[1].clips[0];
    expect(moved).toMatchObject({ startS: 3, loopCount: 2, fadeInS: 1, fadeOutS: 2, fadeOutCurve: "exponential" });
    expect(splitClip(doc, moved, 4)).toBeNull();
    updateClip(doc, b, moved.id, { loopCount: 1 });
    const once = readTracks(doc)[1].clips[0];
    expect(splitClip(doc, once, 6)).not.toBeNull();
    const [left, right] = readTracks(doc)[1].clips;
    expect(left).toMatchObject({ durationS: 3, fadeInS: 1, fadeOutS: 0 });
    expect(right).toMatchObject({ durationS: 1, fadeInS: 0, fadeOutS: 1, fadeOutCurve: "exponential" });
  });
});

describe("writing lanes", () => {
  const stored = (doc: Y.Doc, track: string, lane: "volume" | "pan") => (trackMap(doc, track).get(laneField(lane)) as Y.Array<Y.Map<unknown>>).toJSON();

  it("sets a lane as Y.Maps in a Y.Array sorted by time, clamping values, and clears it", () => {
    const doc = new Y.Doc();
    const track = addTrack(doc, "T");
    setLanePoints(doc, track, "volume", [
      { timeS: 4, value: 40 },
      { timeS: -2, value: -6, curve: "smooth" },
    ]);
    expect(trackMap(doc, track).get("volume_automation")).toBeInstanceOf(Y.Array);
    expect(stored(doc, track, "volume")).toEqual([
      { time_s: 0, value: -6, curve: "smooth" },
      { time_s: 4, value: 24, curve: "linear" },
    ]);
    setLanePoints(doc, track, "pan", [{ timeS: 1, value: -3, curve: "hold" }]);
    expect(readTracks(doc)[0].panLane).toEqual([{ timeS: 1, value: -1, curve: "hold", index: 0 }]);
    setLanePoints(doc, track, "volume", []);
    expect(readTracks(doc)[0].volumeLane).toEqual([]);
  });

  it("adds, moves and removes single points in time order", () => {
    const doc = new Y.Doc();
    const track = addTrack(doc, "T");
    expect(addLanePoint(doc, track, "volume", { timeS: 2, value: -6 })).toBe(0);
    expect(addLanePoint(doc, track, "volume", { timeS: 1, value: 0 })).toBe(0);
    expect(addLanePoint(doc, track, "volume", { timeS: 3, value: -12, curve: "smooth" })).toBe(2);
    expect(stored(doc, track, "volume").map((p) => p.time_s)).toEqual([1, 2, 3]);
    // In place while it stays between its neighbours; moved in the Array past them.
    expect(updateLanePoint(doc, track, "volume", 1, { timeS: 2.5, value: -3 })).toBe(1);
    expect(updateLanePoint(doc, track, "volume", 0, { timeS: 5 })).toBe(2);
    expect(stored(doc, track, "volume")).toEqual([
      { time_s: 2.5, value: -3, curve: "linear" },
      { time_s: 3, value: -12, curve: "smooth" },
      { time_s: 5, value: 0, curve: "linear" },
    ]);
    expect(updateLanePoint(doc, track, "volume", 2, { timeS: 0, curve: "hold" })).toBe(0);
    expect(readTracks(doc)[0].volumeLane.map((p) => [p.timeS, p.curve])).toEqual([
      [0, "hold"],
      [2.5, "linear"],
      [3, "smooth"],
    ]);
    expect(updateLanePoint(doc, track, "volume", 9, { value: 1 })).toBe(-1);
    removeLanePoint(doc, track, "volume", 1);
    expect(readTracks(doc)[0].volumeLane.map((p) => p.timeS)).toEqual([0, 3]);
  });

  it("two peers adding points to one lane keep both", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const track = addTrack(a, "T");
    addLanePoint(a, track, "pan", { timeS: 0, value: 0 });
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    addLanePoint(a, track, "pan", { timeS: 2, value: 1 });
    addLanePoint(b, track, "pan", { timeS: 1, value: -1 });
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
    for (const doc of [a, b]) expect(readTracks(doc)[0].panLane.map((p) => p.timeS)).toEqual([0, 1, 2]);
  });
});

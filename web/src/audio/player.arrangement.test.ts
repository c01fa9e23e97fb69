// The player plays the arrangement as the renderer does: loops from the right repeat
// and place after a seek, fades and gain on each clip's gain node, the track's lanes
// and the mixer's pan law on the strip.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { Awareness } from "y-protocols/awareness";
import type { ApiClient } from "../api/client";
import { addClip, addTrack, readTracks, setTrackField, updateClip } from "../doc/model";
import { setLanePoints } from "../doc/automation";
import { fadeGain, stripGains } from "./arrangement";
import { FakeContext, type ParamEvent } from "./fakeAudioContext";

vi.mock("../api/assets", () => ({
  assetBytes: () => Promise.resolve(new ArrayBuffer(8)),
}));

import { Player } from "./player";

const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};
/** Context time at which song time 0 plays when play() starts at 0 (START_DELAY_S after 100). */
const T0 = 100.03;

describe("the player plays the arrangement", () => {
  let doc: Y.Doc;
  let player: Player;
  let trackId: string;
  let clipId: string;

  beforeEach(() => {
    vi.stubGlobal("AudioContext", FakeContext);
    FakeContext.decoded = { duration: 20, numberOfChannels: 1 };
    doc = new Y.Doc();
    trackId = addTrack(doc, "Drums");
    clipId = addClip(doc, trackId, { assetId: "a1", startS: 2, durationS: 4, offsetS: 1, loopCount: 3 });
    player = new Player(doc, {} as ApiClient, new Awareness(doc));
  });

  afterEach(() => {
    player.destroy();
    vi.unstubAllGlobals();
  });

  const ctx = () => FakeContext.last!;

  it("loops the region on one source, from the repeat and place a seek lands in", async () => {
    player.seek(2 + 4 + 1.5); // 1.5 s into the second repeat
    player.play();
    await flush();
    const [source] = ctx().live();
    expect(source.loop).toBe(true);
    expect(source.loopStart).toBeCloseTo(1);
    expect(source.loopEnd).toBeCloseTo(5);
    const [when, offset, duration] = source.started!;
    expect(when).toBeCloseTo(T0);
    expect(offset).toBeCloseTo(1 + 1.5);
    expect(duration).toBeCloseTo(2 + 12 - 7.5); // to the end of the third repeat
    expect(player.duration).toBe(14);
  });

  it("a region past the asset's end: one source per repeat, silent after the asset", async () => {
    FakeContext.decoded = { duration: 3, numberOfChannels: 1 }; // 2 s of the 4 s region exist
    player.play();
    await flush();
    const starts = ctx().live().map((s) => s.started!);
    expect(starts).toHaveLength(3);
    starts.forEach(([when, offset, duration], loop) => {
      expect(when).toBeCloseTo(T0 + 2 + 4 * loop);
      expect(offset).toBeCloseTo(1);
      expect(duration).toBeCloseTo(2);
    });
    expect(ctx().live().every((s) => !s.loop)).toBe(true);
  });

  it("schedules the clip's fades and gain on its gain node, from a seek inside the fade-in", async () => {
    updateClip(doc, trackId, clipId, { loopCount: 1, gainDb: -6, fadeInS: 1, fadeOutS: 2, fadeOutCurve: "equal_power" });
    player.seek(2.5);
    player.play();
    await flush();
    const gain = 10 ** (-6 / 20);
    const events = ctx().voiceGain(ctx().live()[0]).gain.scheduled;
    const [fadeIn, hold, fadeOut] = events as [Extract<ParamEvent, { type: "curve" }>, Extract<ParamEvent, { type: "set" }>, Extract<ParamEvent, { type: "curve" }>];
    expect(fadeIn.type).toBe("curve");
    expect(fadeIn.at).toBeCloseTo(T0);
    expect(fadeIn.duration).toBeCloseTo(0.5, 3);
    expect(fadeIn.values[0]).toBeCloseTo(gain * 0.5, 5); // halfway through a linear fade
    expect(fadeIn.values[fadeIn.values.length - 1]).toBeCloseTo(gain, 5);
    expect(hold).toEqual({ type: "set", value: expect.closeTo(gain, 9), at: expect.closeTo(T0 + 0.5, 9) });
    expect(fadeOut.type).toBe("curve");
    expect(fadeOut.at).toBeCloseTo(T0 + 0.5 + 1); // the fade-out starts 2 s before the clip's end (6)
    expect(fadeOut.values[Math.floor(fadeOut.values.length / 2)]).toBeCloseTo(gain * fadeGain("equal_power", 0.5), 2);
    expect(fadeOut.values[fadeOut.values.length - 1]).toBeCloseTo(0, 5);
  });

  it("re-schedules the envelope, not the source, when a peer changes a playing clip's fade", async () => {
    player.seek(3);
    player.play();
    await flush();
    const [source] = ctx().live();
    updateClip(doc, trackId, clipId, { fadeOutS: 4 });
    expect(ctx().live()).toEqual([source]);
    const events = ctx().voiceGain(source).gain.events;
    expect(events.some((e) => e.type === "cancel")).toBe(true);
    const last = ctx().voiceGain(source).gain.scheduled.at(-1)!;
    expect(last.type).toBe("curve");
    expect(last.at).toBeCloseTo(T0 + (14 - 4 - 3)); // the last 4 s of the clip
    // A new loop count changes what the source plays: it restarts.
    updateClip(doc, trackId, clipId, { loopCount: 2 });
    expect(source.stopped).toBe(true);
    expect(ctx().live()[0].started![2]).toBeCloseTo(10 - 3, 1);
  });

  it("drives the strip's left and right gains from the lanes with the mixer's law", async () => {
    setLanePoints(doc, trackId, "volume", [
      { timeS: 0, value: 0, curve: "linear" },
      { timeS: 4, value: -12, curve: "hold" },
    ]);
    setLanePoints(doc, trackId, "pan", [{ timeS: 0, value: -1 }]);
    player.play();
    await flush();
    const [strip] = ctx().strips();
    const [ramp, after] = strip.left.gain.scheduled as [Extract<ParamEvent, { type: "curve" }>, Extract<ParamEvent, { type: "set" }>];
    expect(ramp.type).toBe("curve");
    expect(ramp.at).toBeCloseTo(T0);
    expect(ramp.duration).toBeCloseTo(4, 3);
    expect(ramp.values[0]).toBeCloseTo(1, 6); // hard left: all of it on the left
    expect(ramp.values[Math.floor(ramp.values.length / 2)]).toBeCloseTo(10 ** (-6 / 20), 4);
    expect(after).toEqual({ type: "set", value: expect.closeTo(10 ** (-12 / 20), 6), at: expect.closeTo(T0 + 4, 9) });
    // The right side stays exactly silent.
    for (const event of strip.right.gain.scheduled) {
      if (event.type === "curve") expect(Math.max(...event.values)).toBe(0);
      if (event.type === "set") expect(event.value).toBe(0);
    }
  });

  it("re-schedules the lanes from where the song is when a peer moves a point", async () => {
    player.play();
    await flush();
    ctx().currentTime = T0 + 1;
    setLanePoints(doc, trackId, "volume", [{ timeS: 0, value: -6 }, { timeS: 2, value: 0 }]);
    const [strip] = ctx().strips();
    const [ramp] = strip.left.gain.scheduled as Array<Extract<ParamEvent, { type: "curve" }>>;
    expect(ramp.type).toBe("curve");
    expect(ramp.at).toBeCloseTo(T0 + 1.01); // from now (+ the lead), not from the song's start
    expect(ramp.values[0]).toBeCloseTo(stripGains({ volumeDb: 0, pan: 0, volumeLane: [{ timeS: 0, value: -6, curve: "linear" }, { timeS: 2, value: 0, curve: "linear" }], panLane: [] }, 1, 1.01)[0], 4);
    // Clearing the lanes brings the fixed volume and pan back.
    setLanePoints(doc, trackId, "volume", []);
    expect(strip.left.gain.value).toBeCloseTo(Math.SQRT1_2);
  });

  it("a stereo take makes its track a balance: unity in the centre", async () => {
    FakeContext.decoded = { duration: 20, numberOfChannels: 2 };
    setTrackField(doc, trackId, "pan", 0);
    player.play();
    await flush();
    const [strip] = ctx().strips();
    expect(strip.left.gain.value).toBeCloseTo(1);
    expect(strip.right.gain.value).toBeCloseTo(1);
    // Mono clips are spread to both channels before the pan (speakers up-mix).
    expect(strip.gate.channelCount).toBe(2);
    expect(strip.gate.channelInterpretation).toBe("speakers");
  });

  it("loops over a range inside a looped, faded clip", async () => {
    vi.useFakeTimers();
    try {
      updateClip(doc, trackId, clipId, { fadeInS: 1 });
      player.setLoop({ startS: 5, endS: 7 }); // the end of repeat 1 and the start of repeat 2
      player.seek(5);
      player.play();
      await vi.advanceTimersByTimeAsync(1);
      const [first] = ctx().live();
      expect(first.started).toEqual([expect.closeTo(T0, 6), expect.closeTo(1 + 3, 6), expect.closeTo(2, 6)]);
      ctx().currentTime = T0 + 1.8;
      await vi.advanceTimersByTimeAsync(60);
      const second = ctx().live()[1];
      expect(second.started).toEqual([expect.closeTo(T0 + 2, 6), expect.closeTo(4, 6), expect.closeTo(2, 6)]);
      // Past the fade-in: the gain is constant on both passes.
      expect(ctx().voiceGain(second).gain.scheduled).toEqual([{ type: "set", value: expect.closeTo(1, 9), at: expect.closeTo(T0 + 2, 9) }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("reads the clips a peer wrote without the new fields as unlooped and unfaded", async () => {
    const raw = new Y.Map<unknown>();
    doc.transact(() => {
      raw.set("asset_id", "a1");
      raw.set("start_s", 0);
      raw.set("duration_s", 1);
      ((doc.getMap("tracks").get(trackId) as Y.Map<unknown>).get("clips") as Y.Map<unknown>).set("old", raw);
    });
    const old = readTracks(doc)[0].clips.find((c) => c.id === "old")!;
    expect(old).toMatchObject({ loopCount: 1, fadeInS: 0, fadeOutS: 0, fadeInCurve: "linear", fadeOutCurve: "linear" });
    player.play();
    await flush();
    const source = ctx().live().find((s) => s.started![0] < T0 + 1)!;
    expect(source.loop).toBe(false);
    expect(source.started![2]).toBeCloseTo(1);
  });
});

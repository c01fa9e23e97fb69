import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { Awareness } from "y-protocols/awareness";
import type { ApiClient } from "../api/client";
import { addClip, addTrack, setTrackField, updateClip, readTracks } from "../doc/model";

vi.mock("../api/assets", () => ({
  assetBytes: () => Promise.resolve(new ArrayBuffer(8)),
}));

import { audibleTracks, Player } from "./player";
import { dbToAmplitude } from "./arrangement";
import { FakeContext } from "./fakeAudioContext";

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("player", () => {
  let doc: Y.Doc;
  let player: Player;
  let trackId: string;

  beforeEach(() => {
    vi.stubGlobal("AudioContext", FakeContext);
    doc = new Y.Doc();
    trackId = addTrack(doc, "Drums");
    addClip(doc, trackId, { assetId: "a1", startS: 2, durationS: 4, offsetS: 1 });
    player = new Player(doc, {} as ApiClient, new Awareness(doc));
  });

  afterEach(() => {
    player.destroy();
    vi.unstubAllGlobals();
  });

  const ctx = () => FakeContext.last!;
  const live = () => ctx().live();

  it("schedules a clip at its place with the right offset and length", async () => {
    player.seek(3);
    player.play();
    await flush();
    await flush();
    expect(live()).toHaveLength(1);
    const [when, offset, duration] = live()[0].started!;
    // 1 s into the clip: its offset (1 s) + 1 s, 3 s left
    expect(offset).toBeCloseTo(2);
    expect(duration).toBeCloseTo(3);
    expect(when).toBeGreaterThanOrEqual(100);
    expect(when).toBeLessThan(100.1);
  });

  it("schedules a later clip in the future", async () => {
    player.play();
    await flush();
    await flush();
    const [when, offset, duration] = live()[0].started!;
    expect(when).toBeCloseTo(100.03 + 2);
    expect(offset).toBeCloseTo(1);
    expect(duration).toBeCloseTo(4);
  });

  it("reads the position from the audio clock, pauses, then stops at 0", async () => {
    player.seek(1);
    player.play();
    ctx().currentTime = 102.03;
    expect(player.position()).toBeCloseTo(3);
    player.stop();
    expect(player.playing).toBe(false);
    expect(player.position()).toBeCloseTo(3);
    expect(ctx().sources.every((s) => !s.started || s.stopped)).toBe(true);
    player.stop();
    expect(player.position()).toBe(0);
  });

  it("reschedules a clip a peer moves during playback", async () => {
    player.play();
    await flush();
    await flush();
    const first = live()[0];
    const clip = readTracks(doc)[0].clips[0];
    updateClip(doc, trackId, clip.id, { startS: 3 });
    expect(first.stopped).toBe(true);
    expect(live()).toHaveLength(1);
    expect(live()[0].started![0]).toBeCloseTo(100.03 + 3);
  });

  it("gives a clip a source node only when it comes within the scheduling window", async () => {
    vi.useFakeTimers();
    try {
      const clip = readTracks(doc)[0].clips[0];
      updateClip(doc, trackId, clip.id, { startS: 10 });
      player.play();
      await vi.advanceTimersByTimeAsync(1);
      expect(live()).toHaveLength(0); // 10 s away: not yet
      ctx().currentTime = 100.03 + 5; // 5 s before the clip
      await vi.advanceTimersByTimeAsync(60);
      expect(live()).toHaveLength(0);
      ctx().currentTime = 100.03 + 7; // 3 s before it: inside the 4 s window
      await vi.advanceTimersByTimeAsync(60);
      expect(live()).toHaveLength(1);
      expect(live()[0].started![0]).toBeCloseTo(100.03 + 10);
      await vi.advanceTimersByTimeAsync(60);
      expect(live()).toHaveLength(1); // scheduled once
    } finally {
      vi.useRealTimers();
    }
  });

  it("follows mute and solo live", async () => {
    const other = addTrack(doc, "Bass");
    player.play();
    await flush();
    setTrackField(doc, trackId, "volume_db", -6);
    const [drums, bass] = ctx().strips();
    // Centred mono: -3 dB each side (constant power), under the track's -6 dB.
    expect(drums.left.gain.value).toBeCloseTo(dbToAmplitude(-6) * Math.SQRT1_2);
    expect(drums.right.gain.value).toBeCloseTo(dbToAmplitude(-6) * Math.SQRT1_2);
    setTrackField(doc, other, "solo", true);
    expect(drums.gate.gain.value).toBe(0);
    expect(bass.gate.gain.value).toBe(1);
  });

  it("loops by scheduling the next pass ahead", async () => {
    vi.useFakeTimers();
    try {
      player.setLoop({ startS: 2, endS: 4 });
      player.seek(2);
      player.play();
      await vi.advanceTimersByTimeAsync(1);
      // one pass from 2 s to 4 s
      expect(live().map((s) => s.started!)).toEqual([[expect.closeTo(100.03, 5), expect.closeTo(1, 5), expect.closeTo(2, 5)]]);
      ctx().currentTime = 100.03 + 1.8;
      await vi.advanceTimersByTimeAsync(60);
      const starts = live().map((s) => s.started!);
      expect(starts).toHaveLength(2);
      expect(starts[1][0]).toBeCloseTo(100.03 + 2);
      expect(starts[1][1]).toBeCloseTo(1);
      ctx().currentTime = 100.03 + 2.5;
      await vi.advanceTimersByTimeAsync(60);
      expect(player.position()).toBeCloseTo(2.5);
    } finally {
      vi.useRealTimers();
    }
  });

  it("publishes its playhead for peers", () => {
    const awareness = player.awareness;
    player.seek(7);
    const state = awareness.getLocalState() as { playhead: { time_s: number; playing: boolean } };
    expect(state.playhead.time_s).toBe(7);
    expect(state.playhead.playing).toBe(false);
  });
});

describe("solo rule", () => {
  it("plays every unmuted track when nobody solos, only soloed ones otherwise", () => {
    const t = (id: string, mute = false, solo = false) => ({ id, mute, solo });
    expect([...audibleTracks([t("a"), t("b", true)])]).toEqual(["a"]);
    expect([...audibleTracks([t("a"), t("b", false, true), t("c", true, true)])]).toEqual(["b"]);
    expect(dbToAmplitude(0)).toBe(1);
    expect(dbToAmplitude(-6)).toBeCloseTo(0.501, 3);
  });
});

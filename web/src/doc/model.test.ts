import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import {
  addClip,
  addComment,
  addEffect,
  addTrack,
  commentsOf,
  jobsOf,
  metaOf,
  moveTrack,
  readComments,
  readJobs,
  readMeta,
  readMix,
  readTracks,
  removeComment,
  setCommentResolved,
  setEffectParam,
  splitClip,
  tracksOf,
  updateClip,
} from "./model";

/** Two peers kept in sync by exchanging updates, as the server would relay them. */
function pair(): [Y.Doc, Y.Doc] {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.on("update", (u: Uint8Array, origin: unknown) => origin !== "remote" && Y.applyUpdate(b, u, "remote"));
  b.on("update", (u: Uint8Array, origin: unknown) => origin !== "remote" && Y.applyUpdate(a, u, "remote"));
  return [a, b];
}

/** Exchange the full state between two docs that edited apart (offline, then reconnect). */
function exchange(a: Y.Doc, b: Y.Doc): void {
  const fromA = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
  const fromB = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
  Y.applyUpdate(b, fromA);
  Y.applyUpdate(a, fromB);
}

const names = (doc: Y.Doc) => readTracks(doc).map((t) => t.name);

function trackEntry(fields: Record<string, unknown>): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(fields)) m.set(k, v);
  return m;
}

describe("readers tolerate malformed records", () => {
  it("reads defaults from an empty document", () => {
    const doc = new Y.Doc();
    expect(readMeta(doc)).toEqual({ title: "Untitled project", bpm: 120, key: null, timeSignature: "4/4", beatsPerBar: 4, beatUnit: 4 });
    expect(readTracks(doc)).toEqual([]);
    expect(readJobs(doc)).toEqual([]);
    expect(readComments(doc)).toEqual([]);
    expect(readMix(doc).preset).toBeNull();
  });

  it("meta with wrong types reads as defaults", () => {
    const doc = new Y.Doc();
    const m = metaOf(doc);
    m.set("title", 42);
    m.set("bpm", "fast");
    m.set("key", 7);
    m.set("time_signature", "5/5");
    expect(readMeta(doc)).toEqual({ title: "Untitled project", bpm: 120, key: null, timeSignature: "5/5", beatsPerBar: 4, beatUnit: 4 });
    m.set("bpm", 0);
    expect(readMeta(doc).bpm).toBe(120);
    m.set("bpm", 97.5);
    m.set("time_signature", "7/8");
    expect(readMeta(doc)).toMatchObject({ bpm: 97.5, beatsPerBar: 7, beatUnit: 8 });
  });

  it("skips tracks and clips a peer got wrong and defaults bad optional fields", () => {
    const doc = new Y.Doc();
    const tracks = tracksOf(doc);
    doc.transact(() => {
      tracks.set("text", new Y.Text("not a track"));
      tracks.set("number", 5);
      tracks.set("noname", trackEntry({ kind: "audio" }));
      tracks.set("badkind", trackEntry({ name: "x", kind: "kazoo" }));
      const clips = new Y.Map<unknown>();
      clips.set("good", trackEntry({ asset_id: "a1", start_s: 2, duration_s: 3, offset_s: -4, gain_db: "loud" }));
      clips.set("neg", trackEntry({ asset_id: "a1", start_s: -1, duration_s: 3 }));
      clips.set("zero", trackEntry({ asset_id: "a1", start_s: 0, duration_s: 0 }));
      clips.set("inf", trackEntry({ asset_id: "a1", start_s: 0, duration_s: Infinity }));
      clips.set("noasset", trackEntry({ start_s: 0, duration_s: 1 }));
      clips.set("text", new Y.Text("clip"));
      const effects = new Y.Array<unknown>();
      effects.push([trackEntry({ plugin: "eq", params: { gain: 2, name: "x" } }), trackEntry({ plugin: "  " }), "reverb", new Y.Text("comp")]);
      tracks.set(
        "ok",
        trackEntry({ name: "Vox", kind: "vocal", order: 9, volume_db: "x", pan: 3, mute: "yes", solo: true, asset_id: 1, clips, effects }),
      );
      tracks.set("textclips", trackEntry({ name: "Bass", kind: "audio", order: "a1", clips: new Y.Text("x"), effects: "none" }));
    });
    const read = readTracks(doc);
    expect(read.map((t) => t.id)).toEqual(["ok", "textclips"]);
    const [ok, bass] = read;
    expect(ok).toMatchObject({ name: "Vox", kind: "vocal", order: "", volumeDb: 0, pan: 0, mute: false, solo: true, assetId: null });
    expect(ok.clips).toEqual([
      {
        id: "good",
        trackId: "ok",
        assetId: "a1",
        startS: 2,
        offsetS: 0,
        durationS: 3,
        gainDb: 0,
        fadeInS: 0,
        fadeOutS: 0,
        fadeInCurve: "linear",
        fadeOutCurve: "linear",
        loopCount: 1,
      },
    ]);
    expect(ok.volumeLane).toEqual([]);
    expect(ok.panLane).toEqual([]);
    expect(ok.effects).toEqual([{ plugin: "eq", params: { gain: 2 } }]);
    expect(bass.clips).toEqual([]);
    expect(bass.effects).toEqual([]);
  });

  it("accepts plain-object records (written by a JSON-minded peer)", () => {
    const doc = new Y.Doc();
    tracksOf(doc).set("p", { name: "Plain", kind: "bus" });
    expect(readTracks(doc)).toMatchObject([{ id: "p", name: "Plain", kind: "bus", clips: [], effects: [] }]);
  });

  it("skips bad jobs and comments and clamps progress", () => {
    const doc = new Y.Doc();
    doc.transact(() => {
      jobsOf(doc).set("j1", trackEntry({ kind: "analysis", status: "running", progress: 7, created_at: 2, params: new Y.Text("x") }));
      jobsOf(doc).set("j2", trackEntry({ kind: "dance", status: "running" }));
      jobsOf(doc).set("j3", new Y.Text("job"));
      jobsOf(doc).set("j4", trackEntry({ kind: "mixing", status: "done", progress: -1, created_at: 5 }));
      commentsOf(doc).push([
        trackEntry({ id: "c1", author: "u", text: "hi", time_s: -3, reply_to: 5 }),
        trackEntry({ id: "c2", author: "u" }),
        "just text",
        new Y.Text("text"),
        trackEntry({ id: 3, author: "u", text: "x" }),
      ]);
    });
    const jobs = readJobs(doc);
    expect(jobs.map((j) => j.id)).toEqual(["j4", "j1"]);
    expect(jobs[0].progress).toBe(0);
    expect(jobs[1]).toMatchObject({ progress: 1, params: {} });
    expect(readComments(doc)).toEqual([{ id: "c1", author: "u", text: "hi", timeS: null, createdAt: null, replyTo: null, resolved: false }]);
  });
});

describe("writers", () => {
  it("addTrack appends in order on both peers", () => {
    const [a, b] = pair();
    addTrack(a, "Drums");
    addTrack(b, "Bass", "instrument");
    addTrack(a, "Vox", "vocal");
    expect(names(a)).toEqual(["Drums", "Bass", "Vox"]);
    expect(names(b)).toEqual(names(a));
    const tracks = readTracks(a);
    expect(tracks[1]).toMatchObject({ kind: "instrument", volumeDb: 0, pan: 0, mute: false, solo: false, clips: [], effects: [] });
    const orders = tracks.map((t) => t.order);
    expect([...orders].sort()).toEqual(orders);
    expect(new Set(orders).size).toBe(3);
  });

  it("moveTrack re-orders with new keys seen by the other peer", () => {
    const [a, b] = pair();
    const ids = ["A", "B", "C", "D"].map((n) => addTrack(a, n));
    moveTrack(b, ids[3], 0);
    expect(names(a)).toEqual(["D", "A", "B", "C"]);
    moveTrack(a, ids[0], 3);
    expect(names(b)).toEqual(["D", "B", "C", "A"]);
    moveTrack(a, ids[2], 99);
    expect(names(b)).toEqual(["D", "B", "A", "C"]);
    moveTrack(b, ids[2], -5);
    expect(names(a)).toEqual(["C", "D", "B", "A"]);
  });

  it("concurrent inserts tie on the order key; moving a track re-keys and both converge", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    addTrack(a, "A");
    exchange(a, b);
    addTrack(a, "X");
    addTrack(b, "Y");
    exchange(a, b);
    expect(names(a)).toEqual(names(b));
    const [, x, y] = readTracks(a);
    expect(x.order).toBe(y.order);
    const first = readTracks(a)[0];
    moveTrack(a, first.id, 1);
    exchange(a, b);
    expect(names(a)).toEqual(names(b));
    expect(readTracks(a)[1].id).toBe(first.id);
    const orders = readTracks(a).map((t) => t.order);
    expect(new Set(orders).size).toBe(3);
  });

  it("concurrent moves of different tracks converge to the same order", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const ids = ["A", "B", "C", "D", "E"].map((n) => addTrack(a, n));
    exchange(a, b);
    moveTrack(a, ids[0], 4);
    moveTrack(b, ids[4], 0);
    moveTrack(b, ids[2], 1);
    exchange(a, b);
    expect(names(a)).toEqual(names(b));
    expect(new Set(names(a))).toEqual(new Set(["A", "B", "C", "D", "E"]));
  });

  it("concurrent moves of the same track converge to one place (last writer wins)", () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const ids = ["A", "B", "C"].map((n) => addTrack(a, n));
    exchange(a, b);
    moveTrack(a, ids[0], 2);
    moveTrack(b, ids[0], 1);
    exchange(a, b);
    expect(names(a)).toEqual(names(b));
    expect(names(a).filter((n) => n === "A")).toHaveLength(1);
  });

  it("splitClip keeps the audio continuous", () => {
    const [a, b] = pair();
    const track = addTrack(a, "Gtr");
    const clipId = addClip(a, track, { assetId: "asset", startS: 10, offsetS: 1.5, durationS: 8, gainDb: -3 });
    const clip = readTracks(b)[0].clips[0];
    expect(clip).toMatchObject({ id: clipId, startS: 10, offsetS: 1.5, durationS: 8, gainDb: -3 });
    expect(splitClip(b, clip, 10)).toBeNull();
    expect(splitClip(b, clip, 18)).toBeNull();
    expect(splitClip(b, clip, 25)).toBeNull();
    const rightId = splitClip(b, clip, 13.25);
    expect(rightId).not.toBeNull();
    const [left, right] = readTracks(a)[0].clips;
    expect(left.id).toBe(clipId);
    expect(right.id).toBe(rightId);
    expect(left.offsetS + left.durationS).toBeCloseTo(right.offsetS, 9);
    expect(left.startS + left.durationS).toBeCloseTo(right.startS, 9);
    expect(left.durationS + right.durationS).toBeCloseTo(8, 9);
    expect(right).toMatchObject({ assetId: "asset", startS: 13.25, gainDb: -3 });
  });

  it("updateClip clamps and ignores a non-positive duration", () => {
    const doc = new Y.Doc();
    const track = addTrack(doc, "T");
    const clipId = addClip(doc, track, { assetId: "x", startS: -2, durationS: 4 });
    expect(readTracks(doc)[0].clips[0]).toMatchObject({ startS: 0, offsetS: 0, gainDb: 0 });
    updateClip(doc, track, clipId, { startS: -1, offsetS: -1, durationS: 0, gainDb: 2 });
    expect(readTracks(doc)[0].clips[0]).toMatchObject({ startS: 0, offsetS: 0, durationS: 4, gainDb: 2 });
  });

  it("effects: add and set a parameter, across peers", () => {
    const [a, b] = pair();
    const track = addTrack(a, "T");
    addEffect(a, track, "eq", { low: 1 });
    setEffectParam(b, track, 0, "high", -2);
    expect(readTracks(a)[0].effects).toEqual([{ plugin: "eq", params: { low: 1, high: -2 } }]);
  });

  it("comments: add, reply, resolve, remove", () => {
    const [a, b] = pair();
    const first = addComment(a, "alice", "Too loud at 0:12", 12);
    const reply = addComment(b, "bob", "Fixed", null, first);
    let comments = readComments(a);
    expect(comments).toHaveLength(2);
    expect(comments[0]).toMatchObject({ id: first, author: "alice", timeS: 12, replyTo: null, resolved: false });
    expect(comments[1]).toMatchObject({ id: reply, author: "bob", timeS: null, replyTo: first });
    expect(typeof comments[0].createdAt).toBe("number");
    setCommentResolved(b, first, true);
    expect(readComments(a)[0].resolved).toBe(true);
    setCommentResolved(a, "missing", true);
    removeComment(a, reply);
    comments = readComments(b);
    expect(comments.map((c) => c.id)).toEqual([first]);
  });

  it("each write is one transaction (one update for the peer)", () => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on("update", (u: Uint8Array) => updates.push(u));
    const track = addTrack(doc, "T");
    const clipId = addClip(doc, track, { assetId: "x", startS: 0, durationS: 4 });
    splitClip(doc, readTracks(doc)[0].clips[0], 2);
    expect(clipId).toBeTruthy();
    expect(updates).toHaveLength(3);
  });
});

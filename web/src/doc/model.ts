// The project document (docs_model/schema.py) read and written from the browser.
// Reads never fail on shapes a peer got wrong: unusable records are skipped and bad
// optional fields read as defaults. Every write is one transaction.
import * as Y from "yjs";
import { generateKeyBetween } from "fractional-indexing";

export const ROOTS = {
  meta: "meta",
  tracks: "tracks",
  lyrics: "lyrics",
  lyricsMeta: "lyrics_meta",
  mix: "mix",
  jobs: "jobs",
  coaching: "coaching",
  comments: "comments",
} as const;

export type TrackKind = "audio" | "vocal" | "instrument" | "bus" | "midi";
export const TRACK_KINDS: TrackKind[] = ["audio", "vocal", "instrument", "bus", "midi"];
export type JobKind = "analysis" | "mixing" | "mastering" | "coaching" | "lyrics";
export type JobStatus = "queued" | "running" | "done" | "failed";
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Meta {
  title: string;
  bpm: number;
  key: string | null;
  timeSignature: string;
  /** Beats per bar and the beat's note value, from `timeSignature`. */
  beatsPerBar: number;
  beatUnit: number;
}

/** How a clip's fade moves between silence and full level (docs_model FadeCurve). */
export type FadeCurve = "linear" | "equal_power" | "exponential";
export const FADE_CURVES: FadeCurve[] = ["linear", "equal_power", "exponential"];
/** How an automation lane moves from a point to the next (docs_model AutomationCurve). */
export type LaneCurve = "linear" | "hold" | "smooth";
export const LANE_CURVES: LaneCurve[] = ["linear", "hold", "smooth"];
/** Most times a clip's region may repeat. */
export const MAX_LOOP_COUNT = 1000;

export interface Clip {
  id: string;
  trackId: string;
  assetId: string;
  startS: number;
  offsetS: number;
  /** The region of the asset played, once (the clip lasts durationS * loopCount). */
  durationS: number;
  gainDb: number;
  fadeInS: number;
  fadeOutS: number;
  fadeInCurve: FadeCurve;
  fadeOutCurve: FadeCurve;
  /** Times the region plays back to back (1..1000). */
  loopCount: number;
}

/** A breakpoint of an automation lane: `value` (dB, or pan -1..1) at `timeS`. */
export interface LanePoint {
  timeS: number;
  value: number;
  /** Shapes the way from this point to the next. */
  curve: LaneCurve;
  /** Its place in the stored Array (what the lane writers take). */
  index: number;
}

export type LaneName = "volume" | "pan";

export interface Effect {
  plugin: string;
  params: Record<string, number>;
}

export interface Track {
  id: string;
  name: string;
  kind: TrackKind;
  order: string;
  volumeDb: number;
  pan: number;
  mute: boolean;
  solo: boolean;
  assetId: string | null;
  clips: Clip[];
  effects: Effect[];
  /** While it has points, it sets the volume (dB) in place of volumeDb, in time order. */
  volumeLane: LanePoint[];
  /** While it has points, it sets the pan (-1..1) in place of pan, in time order. */
  panLane: LanePoint[];
}

export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  progress: number;
  params: Record<string, Json>;
  requestedBy: string;
  result: Record<string, Json> | null;
  error: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  finishedAt: number | null;
}

export interface CoachingNote {
  startS: number;
  endS: number | null;
  kind: string;
  message: string;
  figures: Record<string, Json>;
}

export interface Coaching {
  trackId: string;
  summary: Record<string, Json>;
  notes: CoachingNote[];
  updatedAt: number | null;
}

export interface Comment {
  id: string;
  author: string;
  text: string;
  timeS: number | null;
  createdAt: number | null;
  /** The comment this one answers, or null for a thread's first comment. */
  replyTo: string | null;
  resolved: boolean;
}

export interface Mix {
  preset: string | null;
  renderAssetId: string | null;
  renderLoudnessLufs: number | null;
  renderTruePeakDbtp: number | null;
  masterAssetId: string | null;
  masterLoudnessLufs: number | null;
  masterTruePeakDbtp: number | null;
}

export const DEFAULT_BPM = 120;

// ---------------------------------------------------------------- plain values

/** A Y type or plain value as plain JSON (Y.Map -> object, Y.Array -> list). */
export function plain(value: unknown): Json {
  if (value instanceof Y.Map || value instanceof Y.Array) return value.toJSON() as Json;
  if (value instanceof Y.Text) return value.toString();
  if (value === undefined) return null;
  return value as Json;
}

function entriesOf(raw: unknown): Map<string, unknown> | null {
  if (raw instanceof Y.Map) return new Map(raw.entries());
  if (raw && typeof raw === "object" && !Array.isArray(raw) && !(raw instanceof Y.AbstractType)) {
    return new Map(Object.entries(raw as Record<string, unknown>));
  }
  return null;
}

const num = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const optNum = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
const optStr = (v: unknown): string | null => (typeof v === "string" ? v : null);
const bool = (v: unknown): boolean => v === true;
const nonNegative = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
const oneOf = <T extends string>(v: unknown, allowed: readonly T[], fallback: T): T => (allowed.includes(v as T) ? (v as T) : fallback);
const obj = (v: unknown): Record<string, Json> | null => {
  const p = plain(v);
  return p && typeof p === "object" && !Array.isArray(p) ? (p as Record<string, Json>) : null;
};

export function newId(): string {
  return crypto.randomUUID().replace(/-/g, "");
}

const now = (): number => Date.now() / 1000;

// ---------------------------------------------------------------- roots

export const metaOf = (doc: Y.Doc) => doc.getMap<unknown>(ROOTS.meta);
export const tracksOf = (doc: Y.Doc) => doc.getMap<unknown>(ROOTS.tracks);
export const jobsOf = (doc: Y.Doc) => doc.getMap<unknown>(ROOTS.jobs);
export const mixOf = (doc: Y.Doc) => doc.getMap<unknown>(ROOTS.mix);
export const coachingOf = (doc: Y.Doc) => doc.getMap<unknown>(ROOTS.coaching);
export const commentsOf = (doc: Y.Doc) => doc.getArray<unknown>(ROOTS.comments);
export const lyricsOf = (doc: Y.Doc) => doc.getText(ROOTS.lyrics);
export const lyricsMetaOf = (doc: Y.Doc) => doc.getMap<unknown>(ROOTS.lyricsMeta);

// ---------------------------------------------------------------- reads

export function parseTimeSignature(value: string): { beatsPerBar: number; beatUnit: number } {
  const match = /^([1-9][0-9]?)\/(1|2|4|8|16|32)$/.exec(value);
  if (!match) return { beatsPerBar: 4, beatUnit: 4 };
  return { beatsPerBar: Number(match[1]), beatUnit: Number(match[2]) };
}

export function readMeta(doc: Y.Doc): Meta {
  const m = metaOf(doc);
  const bpmRaw = m.get("bpm");
  const bpm = typeof bpmRaw === "number" && bpmRaw > 0 && bpmRaw <= 999 ? bpmRaw : DEFAULT_BPM;
  const timeSignature = str(m.get("time_signature"), "4/4");
  return {
    title: str(m.get("title"), "Untitled project"),
    bpm,
    key: optStr(m.get("key")),
    timeSignature,
    ...parseTimeSignature(timeSignature),
  };
}

export function readClip(trackId: string, clipId: string, raw: unknown): Clip | null {
  const f = entriesOf(raw);
  if (!f) return null;
  const assetId = f.get("asset_id");
  const start = f.get("start_s");
  const duration = f.get("duration_s");
  if (typeof assetId !== "string" || typeof start !== "number" || start < 0) return null;
  if (typeof duration !== "number" || !(duration > 0) || !Number.isFinite(duration)) return null;
  const loops = f.get("loop_count");
  const loopCount = typeof loops === "number" && Number.isInteger(loops) && loops >= 1 && loops <= MAX_LOOP_COUNT ? loops : 1;
  const fadeInS = nonNegative(f.get("fade_in_s"));
  let fadeOutS = nonNegative(f.get("fade_out_s"));
  // docs_model's rule: fades that do not fit in the clip read the fade-out as its default.
  if (fadeInS + fadeOutS > duration * loopCount + 1e-9) fadeOutS = 0;
  return {
    id: clipId,
    trackId,
    assetId,
    startS: start,
    offsetS: Math.max(0, num(f.get("offset_s"), 0)),
    durationS: duration,
    gainDb: num(f.get("gain_db"), 0),
    fadeInS,
    fadeOutS,
    fadeInCurve: oneOf(f.get("fade_in_curve"), FADE_CURVES, "linear"),
    fadeOutCurve: oneOf(f.get("fade_out_curve"), FADE_CURVES, "linear"),
    loopCount,
  };
}

/** Seconds a clip plays in the song: its region times its loops. */
export const clipLengthS = (clip: Pick<Clip, "durationS" | "loopCount">): number => clip.durationS * clip.loopCount;
export const clipEndS = (clip: Pick<Clip, "startS" | "durationS" | "loopCount">): number => clip.startS + clipLengthS(clip);

/** A lane's points in time order; points a peer got wrong (no time, negative time, no value) are skipped. */
export function readLane(raw: unknown): LanePoint[] {
  const list = raw instanceof Y.Array ? raw.toArray() : Array.isArray(raw) ? raw : [];
  const points: LanePoint[] = [];
  list.forEach((item, index) => {
    const f = entriesOf(item);
    const timeS = f?.get("time_s");
    const value = f?.get("value");
    if (!f || typeof timeS !== "number" || !Number.isFinite(timeS) || timeS < 0) return;
    if (typeof value !== "number" || !Number.isFinite(value)) return;
    points.push({ timeS, value, curve: oneOf(f.get("curve"), LANE_CURVES, "linear"), index });
  });
  // Stable: points at one time keep their stored order (the renderer's sort does too).
  return points.sort((a, b) => a.timeS - b.timeS);
}

function readEffect(raw: unknown): Effect | null {
  const f = entriesOf(raw);
  const plugin = f?.get("plugin");
  if (!f || typeof plugin !== "string" || !plugin.trim()) return null;
  const params: Record<string, number> = {};
  for (const [name, value] of Object.entries(obj(f.get("params")) ?? {})) {
    if (typeof value === "number") params[name] = value;
  }
  return { plugin, params };
}

export function readTrack(trackId: string, raw: unknown): Track | null {
  const f = entriesOf(raw);
  if (!f) return null;
  const name = f.get("name");
  const kind = f.get("kind");
  if (typeof name !== "string" || !TRACK_KINDS.includes(kind as TrackKind)) return null;
  const clipsRaw = f.get("clips");
  const clips: Clip[] = [];
  if (clipsRaw instanceof Y.Map) {
    for (const [clipId, value] of clipsRaw.entries()) {
      const clip = readClip(trackId, clipId, value);
      if (clip) clips.push(clip);
    }
  }
  clips.sort((a, b) => a.startS - b.startS || (a.id < b.id ? -1 : 1));
  const effectsRaw = f.get("effects");
  const effects = effectsRaw instanceof Y.Array ? effectsRaw.toArray().map(readEffect).filter((e): e is Effect => e !== null) : [];
  const pan = num(f.get("pan"), 0);
  return {
    id: trackId,
    name,
    kind: kind as TrackKind,
    order: str(f.get("order"), ""),
    volumeDb: num(f.get("volume_db"), 0),
    pan: pan >= -1 && pan <= 1 ? pan : 0,
    mute: bool(f.get("mute")),
    solo: bool(f.get("solo")),
    assetId: optStr(f.get("asset_id")),
    clips,
    effects,
    volumeLane: readLane(f.get("volume_automation")),
    panLane: readLane(f.get("pan_automation")),
  };
}

/** Tracks in display order: by order key, ties broken by id (as docs_model does). */
export function readTracks(doc: Y.Doc): Track[] {
  const tracks: Track[] = [];
  for (const [id, raw] of tracksOf(doc).entries()) {
    const track = readTrack(id, raw);
    if (track) tracks.push(track);
  }
  return tracks.sort(compareTracks);
}

export function compareTracks(a: { order: string; id: string }, b: { order: string; id: string }): number {
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const JOB_KINDS: JobKind[] = ["analysis", "mixing", "mastering", "coaching", "lyrics"];
const JOB_STATUSES: JobStatus[] = ["queued", "running", "done", "failed"];

export function readJob(jobId: string, raw: unknown): Job | null {
  const f = entriesOf(raw);
  if (!f) return null;
  const kind = f.get("kind");
  const status = f.get("status");
  if (!JOB_KINDS.includes(kind as JobKind) || !JOB_STATUSES.includes(status as JobStatus)) return null;
  return {
    id: jobId,
    kind: kind as JobKind,
    status: status as JobStatus,
    progress: Math.min(1, Math.max(0, num(f.get("progress"), 0))),
    params: obj(f.get("params")) ?? {},
    requestedBy: str(f.get("requested_by"), ""),
    result: obj(f.get("result")),
    error: optStr(f.get("error")),
    createdAt: optNum(f.get("created_at")),
    updatedAt: optNum(f.get("updated_at")),
    finishedAt: optNum(f.get("finished_at")),
  };
}

/** Jobs, newest first. */
export function readJobs(doc: Y.Doc): Job[] {
  const jobs: Job[] = [];
  for (const [id, raw] of jobsOf(doc).entries()) {
    const job = readJob(id, raw);
    if (job) jobs.push(job);
  }
  return jobs.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0) || (a.id < b.id ? -1 : 1));
}

export function readMix(doc: Y.Doc): Mix {
  const m = mixOf(doc);
  return {
    preset: optStr(m.get("preset")),
    renderAssetId: optStr(m.get("render_asset_id")),
    renderLoudnessLufs: optNum(m.get("render_loudness_lufs")),
    renderTruePeakDbtp: optNum(m.get("render_true_peak_dbtp")),
    masterAssetId: optStr(m.get("master_asset_id")),
    masterLoudnessLufs: optNum(m.get("master_loudness_lufs")),
    masterTruePeakDbtp: optNum(m.get("master_true_peak_dbtp")),
  };
}

export function readCoaching(doc: Y.Doc): Coaching[] {
  const out: Coaching[] = [];
  for (const [trackId, raw] of coachingOf(doc).entries()) {
    const f = entriesOf(raw);
    if (!f) continue;
    const notesRaw = f.get("notes");
    const notes: CoachingNote[] = [];
    const list = notesRaw instanceof Y.Array ? notesRaw.toArray() : Array.isArray(notesRaw) ? notesRaw : [];
    for (const item of list) {
      const n = entriesOf(item);
      const message = n?.get("message");
      const start = n?.get("start_s");
      if (!n || typeof message !== "string" || typeof start !== "number") continue;
      notes.push({ startS: start, endS: optNum(n.get("end_s")), kind: str(n.get("kind"), "note"), message, figures: obj(n.get("figures")) ?? {} });
    }
    out.push({ trackId, summary: obj(f.get("summary")) ?? {}, notes, updatedAt: optNum(f.get("updated_at")) });
  }
  return out;
}

export function readComments(doc: Y.Doc): Comment[] {
  const out: Comment[] = [];
  for (const raw of commentsOf(doc).toArray()) {
    const f = entriesOf(raw);
    const id = f?.get("id");
    const text = f?.get("text");
    const author = f?.get("author");
    if (!f || typeof id !== "string" || typeof text !== "string" || typeof author !== "string") continue;
    const time = optNum(f.get("time_s"));
    out.push({
      id,
      author,
      text,
      timeS: time !== null && time >= 0 ? time : null,
      createdAt: optNum(f.get("created_at")),
      replyTo: optStr(f.get("reply_to")),
      resolved: bool(f.get("resolved")),
    });
  }
  return out;
}

// ---------------------------------------------------------------- writes

/** The stored Map of track `trackId` (throws when there is none). */
export function trackMap(doc: Y.Doc, trackId: string): Y.Map<unknown> {
  const raw = tracksOf(doc).get(trackId);
  if (!(raw instanceof Y.Map)) throw new Error(`no track ${trackId}`);
  return raw;
}

function clipsMap(doc: Y.Doc, trackId: string): Y.Map<unknown> {
  const clips = trackMap(doc, trackId).get("clips");
  if (!(clips instanceof Y.Map)) throw new Error(`track ${trackId} has no clip map`);
  return clips;
}

function clipMap(doc: Y.Doc, trackId: string, clipId: string): Y.Map<unknown> {
  const clip = clipsMap(doc, trackId).get(clipId);
  if (!(clip instanceof Y.Map)) throw new Error(`no clip ${clipId}`);
  return clip;
}

/** The order key for a track placed between `before` and `after` (either may be null). */
export function orderBetween(before: string | null, after: string | null): string {
  try {
    return generateKeyBetween(before, after);
  } catch {
    // Tied or malformed neighbours: place it at the end.
    return generateKeyBetween(before, null);
  }
}

export function addTrack(doc: Y.Doc, name: string, kind: TrackKind = "audio"): string {
  const id = newId();
  doc.transact(() => {
    const tracks = readTracks(doc);
    const last = tracks.length ? tracks[tracks.length - 1].order : null;
    const entry = new Y.Map<unknown>();
    entry.set("name", name);
    entry.set("kind", kind);
    entry.set("order", orderBetween(last || null, null));
    entry.set("volume_db", 0);
    entry.set("pan", 0);
    entry.set("mute", false);
    entry.set("solo", false);
    entry.set("asset_id", null);
    entry.set("clips", new Y.Map());
    entry.set("effects", new Y.Array());
    tracksOf(doc).set(id, entry);
  });
  return id;
}

export type TrackField = "name" | "volume_db" | "pan" | "mute" | "solo" | "kind";

export function setTrackField(doc: Y.Doc, trackId: string, field: TrackField, value: string | number | boolean): void {
  doc.transact(() => trackMap(doc, trackId).set(field, value));
}

export function removeTrack(doc: Y.Doc, trackId: string): void {
  doc.transact(() => {
    tracksOf(doc).delete(trackId);
    coachingOf(doc).delete(trackId);
  });
}

/** Move a track so it sits at `toIndex` in the current display order. */
export function moveTrack(doc: Y.Doc, trackId: string, toIndex: number): void {
  doc.transact(() => {
    const others = readTracks(doc).filter((t) => t.id !== trackId);
    const index = Math.max(0, Math.min(toIndex, others.length));
    const before = index > 0 ? others[index - 1].order : null;
    const after = index < others.length ? others[index].order : null;
    let key: string;
    if (before !== null && after !== null && before >= after) {
      // Tied neighbours (concurrent inserts): re-key the whole list in display order.
      const ordered = [...others.slice(0, index), { id: trackId }, ...others.slice(index)];
      let previous: string | null = null;
      for (const item of ordered) {
        previous = generateKeyBetween(previous, null);
        trackMap(doc, item.id).set("order", previous);
      }
      return;
    } else {
      key = orderBetween(before || null, after || null);
    }
    trackMap(doc, trackId).set("order", key);
  });
}

export interface ClipFields {
  assetId: string;
  startS: number;
  durationS: number;
  offsetS?: number;
  gainDb?: number;
  fadeInS?: number;
  fadeOutS?: number;
  fadeInCurve?: FadeCurve;
  fadeOutCurve?: FadeCurve;
  loopCount?: number;
}

/** The fields of a clip one may set; fades and loops are kept valid (see fitClip). */
export type ClipEdit = Partial<Pick<Clip, "startS" | "offsetS" | "durationS" | "gainDb" | "fadeInS" | "fadeOutS" | "fadeInCurve" | "fadeOutCurve" | "loopCount">>;

type ClipShape = Pick<Clip, "durationS" | "loopCount" | "fadeInS" | "fadeOutS">;

/**
 * `next` made valid: a whole loop count in 1..1000, fades of at least 0 that fit in the
 * clip (docs_model refuses fade_in_s + fade_out_s > duration_s * loop_count). A fade set
 * by this edit keeps what it asked for where it can; the other one gives way first.
 */
export function fitClip(next: ClipShape, edit: ClipEdit = {}): ClipShape {
  const loopCount = Math.min(MAX_LOOP_COUNT, Math.max(1, Math.round(next.loopCount) || 1));
  const length = next.durationS * loopCount;
  let fadeInS = Math.min(length, Math.max(0, next.fadeInS || 0));
  let fadeOutS = Math.min(length, Math.max(0, next.fadeOutS || 0));
  if (fadeInS + fadeOutS > length) {
    if (edit.fadeOutS !== undefined && edit.fadeInS === undefined) fadeInS = length - fadeOutS;
    else fadeOutS = length - fadeInS;
  }
  return { durationS: next.durationS, loopCount, fadeInS, fadeOutS };
}

export function addClip(doc: Y.Doc, trackId: string, fields: ClipFields): string {
  const id = newId();
  doc.transact(() => {
    const clip = new Y.Map<unknown>();
    clip.set("asset_id", fields.assetId);
    clip.set("start_s", Math.max(0, fields.startS));
    clip.set("offset_s", Math.max(0, fields.offsetS ?? 0));
    clip.set("duration_s", fields.durationS);
    clip.set("gain_db", fields.gainDb ?? 0);
    const shape = fitClip({ durationS: fields.durationS, loopCount: fields.loopCount ?? 1, fadeInS: fields.fadeInS ?? 0, fadeOutS: fields.fadeOutS ?? 0 });
    clip.set("fade_in_s", shape.fadeInS);
    clip.set("fade_out_s", shape.fadeOutS);
    clip.set("fade_in_curve", fields.fadeInCurve ?? "linear");
    clip.set("fade_out_curve", fields.fadeOutCurve ?? "linear");
    clip.set("loop_count", shape.loopCount);
    clipsMap(doc, trackId).set(id, clip);
  });
  return id;
}

export function updateClip(doc: Y.Doc, trackId: string, clipId: string, fields: ClipEdit): void {
  doc.transact(() => {
    const map = clipMap(doc, trackId, clipId);
    const current = readClip(trackId, clipId, map);
    if (fields.startS !== undefined) map.set("start_s", Math.max(0, fields.startS));
    if (fields.offsetS !== undefined) map.set("offset_s", Math.max(0, fields.offsetS));
    if (fields.gainDb !== undefined && Number.isFinite(fields.gainDb)) map.set("gain_db", fields.gainDb);
    if (fields.fadeInCurve !== undefined && FADE_CURVES.includes(fields.fadeInCurve)) map.set("fade_in_curve", fields.fadeInCurve);
    if (fields.fadeOutCurve !== undefined && FADE_CURVES.includes(fields.fadeOutCurve)) map.set("fade_out_curve", fields.fadeOutCurve);
    const durationS = fields.durationS !== undefined && fields.durationS > 0 ? fields.durationS : undefined;
    if (!current) {
      if (durationS !== undefined) map.set("duration_s", durationS);
      return;
    }
    // Region, loops and fades are written together so the fades always fit.
    const before: ClipShape = current;
    const after = fitClip(
      {
        durationS: durationS ?? current.durationS,
        loopCount: fields.loopCount ?? current.loopCount,
        fadeInS: fields.fadeInS ?? current.fadeInS,
        fadeOutS: fields.fadeOutS ?? current.fadeOutS,
      },
      fields,
    );
    if (after.durationS !== before.durationS) map.set("duration_s", after.durationS);
    if (after.loopCount !== before.loopCount || fields.loopCount !== undefined) map.set("loop_count", after.loopCount);
    if (after.fadeInS !== before.fadeInS || fields.fadeInS !== undefined) map.set("fade_in_s", after.fadeInS);
    if (after.fadeOutS !== before.fadeOutS || fields.fadeOutS !== undefined) map.set("fade_out_s", after.fadeOutS);
  });
}

/** Move a clip to another track (keeping its id would race with edits on the old one). */
export function moveClipToTrack(doc: Y.Doc, clip: Clip, toTrackId: string, startS: number): string {
  let id = clip.id;
  doc.transact(() => {
    clipsMap(doc, clip.trackId).delete(clip.id);
    id = addClip(doc, toTrackId, { ...clip, startS });
  });
  return id;
}

/**
 * Split `clip` at `atS` seconds in the song; returns the new right-hand clip's id, or null
 * (outside the clip, or a looped clip: its halves would not be two regions). The left
 * part keeps the fade-in, the right part the fade-out.
 */
export function splitClip(doc: Y.Doc, clip: Clip, atS: number): string | null {
  const left = atS - clip.startS;
  const right = clip.startS + clip.durationS - atS;
  if (clip.loopCount > 1 || left <= 0.001 || right <= 0.001) return null;
  let id: string | null = null;
  doc.transact(() => {
    const map = clipMap(doc, clip.trackId, clip.id);
    map.set("duration_s", left);
    map.set("fade_in_s", Math.min(clip.fadeInS, left));
    map.set("fade_out_s", 0);
    id = addClip(doc, clip.trackId, {
      assetId: clip.assetId,
      startS: atS,
      offsetS: clip.offsetS + left,
      durationS: right,
      gainDb: clip.gainDb,
      fadeOutS: Math.min(clip.fadeOutS, right),
      fadeOutCurve: clip.fadeOutCurve,
    });
  });
  return id;
}

export function removeClip(doc: Y.Doc, trackId: string, clipId: string): void {
  doc.transact(() => clipsMap(doc, trackId).delete(clipId));
}

export function setMetaField(doc: Y.Doc, field: "title" | "bpm" | "key" | "time_signature", value: string | number | null): void {
  doc.transact(() => metaOf(doc).set(field, value));
}

function effectsArray(doc: Y.Doc, trackId: string): Y.Array<unknown> {
  const effects = trackMap(doc, trackId).get("effects");
  if (!(effects instanceof Y.Array)) throw new Error(`track ${trackId} has no effect chain`);
  return effects;
}

function effectMap(plugin: string, params: Record<string, number>): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  map.set("plugin", plugin);
  map.set("params", new Y.Map(Object.entries(params)));
  return map;
}

export function addEffect(doc: Y.Doc, trackId: string, plugin: string, params: Record<string, number>): void {
  doc.transact(() => effectsArray(doc, trackId).push([effectMap(plugin, params)]));
}

export function removeEffect(doc: Y.Doc, trackId: string, index: number): void {
  doc.transact(() => {
    const effects = effectsArray(doc, trackId);
    if (index >= 0 && index < effects.length) effects.delete(index, 1);
  });
}

export function moveEffect(doc: Y.Doc, trackId: string, from: number, to: number): void {
  doc.transact(() => {
    const effects = effectsArray(doc, trackId);
    const effect = readEffect(effects.get(from));
    if (!effect || to < 0 || to >= effects.length || from === to) return;
    effects.delete(from, 1);
    effects.insert(to, [effectMap(effect.plugin, effect.params)]);
  });
}

export function setEffectParam(doc: Y.Doc, trackId: string, index: number, name: string, value: number): void {
  doc.transact(() => {
    const effect = effectsArray(doc, trackId).get(index);
    if (!(effect instanceof Y.Map)) return;
    let params = effect.get("params");
    if (!(params instanceof Y.Map)) {
      params = new Y.Map(Object.entries(obj(params) ?? {}));
      effect.set("params", params);
    }
    (params as Y.Map<unknown>).set(name, value);
  });
}

export function addComment(doc: Y.Doc, author: string, text: string, timeS: number | null, replyTo: string | null = null): string {
  const id = newId();
  doc.transact(() => {
    const comment = new Y.Map<unknown>();
    comment.set("id", id);
    comment.set("author", author);
    comment.set("text", text);
    comment.set("time_s", timeS);
    comment.set("created_at", now());
    if (replyTo) comment.set("reply_to", replyTo);
    comment.set("resolved", false);
    commentsOf(doc).push([comment]);
  });
  return id;
}

function commentMap(doc: Y.Doc, commentId: string): [number, Y.Map<unknown>] | null {
  const list = commentsOf(doc).toArray();
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item instanceof Y.Map && item.get("id") === commentId) return [i, item];
  }
  return null;
}

export function setCommentResolved(doc: Y.Doc, commentId: string, resolved: boolean): void {
  doc.transact(() => commentMap(doc, commentId)?.[1].set("resolved", resolved));
}

export function removeComment(doc: Y.Doc, commentId: string): void {
  doc.transact(() => {
    const found = commentMap(doc, commentId);
    if (found) commentsOf(doc).delete(found[0], 1);
  });
}

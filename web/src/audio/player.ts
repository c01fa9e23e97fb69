// The Web Audio playback engine. The shared document is the score: every track is a
// gain + stereo panner strip into the master, every clip an AudioBufferSourceNode
// through its own gain, scheduled on the AudioContext clock. Edits by anyone (a
// peer moving a clip, muting a track) are applied live while playing.
//
// Time is kept as "passes": a pass plays song time [songFrom, songTo) from context
// time ctxStart. Playing without a loop is one open-ended pass; a loop is a chain of
// passes over the loop range, each scheduled by a lookahead timer shortly before the
// previous one ends (never on animation frames).
import type * as Y from "yjs";
import type { Awareness } from "y-protocols/awareness";
import type { ApiClient } from "../api/client";
import { assetBytes } from "../api/assets";
import { readTracks, tracksOf, type Clip, type Track } from "../doc/model";

export interface LoopRange {
  startS: number;
  endS: number;
}

export interface PlayerState {
  playing: boolean;
  loop: boolean;
  loopRange: LoopRange;
  /** Audio still downloading or decoding. */
  loading: boolean;
  /** The last asset that could not be played, for the transport to show. */
  error: string | null;
}

/** What peers publish in awareness as `playhead`. */
export interface SharedPlayhead {
  time_s: number;
  playing: boolean;
  /** Date.now() when time_s was true; peers extrapolate from it while playing. */
  at: number;
}

interface Pass {
  ctxStart: number;
  songFrom: number;
  songTo: number;
  /** Clips of this pass that start beyond the scheduling window, by key; the tick schedules them as they come near. */
  deferred: Set<string>;
}

interface Voice {
  key: string;
  pass: Pass;
  source: AudioBufferSourceNode;
  gain: GainNode;
}

interface Strip {
  gain: GainNode;
  pan: StereoPannerNode;
}

/** How far ahead of a loop's end the next pass is scheduled (longer in background tabs, whose timers are slowed). */
const lookahead = () => (typeof document !== "undefined" && document.hidden ? 1.5 : 0.3);
const TICK_MS = 50;
/** Clips are given source nodes only this far ahead (s): starting a song of 400 clips
 * schedules the first few seconds, not the whole song in one long task. */
const WINDOW_S = 4;
const PUBLISH_MS = 250;
const START_DELAY_S = 0.03;
export const MIN_LOOP_S = 0.1;

export const dbToGain = (db: number): number => (db <= -96 ? 0 : Math.pow(10, db / 20));

/** The solo rule: if any track is soloed only soloed tracks play; muted tracks never. */
export function audibleTracks(tracks: Pick<Track, "id" | "mute" | "solo">[]): Set<string> {
  const anySolo = tracks.some((t) => t.solo);
  return new Set(tracks.filter((t) => !t.mute && (!anySolo || t.solo)).map((t) => t.id));
}

const clipKey = (clip: Clip) => `${clip.trackId}/${clip.id}`;
const clipShape = (clip: Clip) => `${clip.assetId}|${clip.startS}|${clip.offsetS}|${clip.durationS}`;

export class Player {
  playing = false;
  loop = false;
  loopRange: LoopRange = { startS: 0, endS: 8 };
  private ctx: AudioContext | null = null;
  private master: GainNode | null = null;
  private strips = new Map<string, Strip>();
  private passes: Pass[] = [];
  private voices = new Set<Voice>();
  private buffers = new Map<string, AudioBuffer>();
  private decoding = new Map<string, Promise<void>>();
  private failed = new Set<string>();
  private error: string | null = null;
  private pausedAt = 0;
  private tracks: Track[] = [];
  private clips = new Map<string, Clip>();
  private songEnd = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastPublish = 0;
  private listeners = new Set<() => void>();
  private state: PlayerState;
  private destroyed = false;
  private readonly onDocChange = () => this.syncDocument();

  constructor(
    readonly doc: Y.Doc,
    readonly api: ApiClient,
    readonly awareness: Awareness,
  ) {
    this.state = this.makeState();
    tracksOf(doc).observeDeep(this.onDocChange);
    this.syncDocument();
  }

  // ------------------------------------------------------------ reading

  /** The song position in seconds, live from the audio clock while playing. */
  position(): number {
    const ctx = this.ctx;
    if (!this.playing || !ctx || this.passes.length === 0) return this.pausedAt;
    const now = ctx.currentTime;
    let pass = this.passes[0];
    for (const p of this.passes) if (p.ctxStart <= now) pass = p;
    return Math.min(pass.songTo, pass.songFrom + Math.max(0, now - pass.ctxStart));
  }

  get loading(): boolean {
    return this.decoding.size > 0;
  }

  /** The end of the last clip (0 for an empty song). */
  get duration(): number {
    return this.songEnd;
  }

  /** A stable snapshot for useSyncExternalStore; a new object after each change. */
  getState(): PlayerState {
    return this.state;
  }

  /** Called on state changes (play, stop, seek, loop, loading), never per frame. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------ transport

  play(): void {
    if (this.playing || this.destroyed) return;
    const ctx = this.context();
    if (ctx.state === "suspended") void ctx.resume();
    this.failed.clear();
    this.error = null;
    for (const clip of this.clips.values()) this.ensureBuffer(clip.assetId);
    let from = this.pausedAt;
    // At the song's end, play starts it again.
    if (this.songEnd > 0 && from >= this.songEnd && !this.loop) from = 0;
    if (this.loop && from >= this.loopRange.endS) from = this.loopRange.startS;
    this.playing = true;
    this.startPass(from, ctx.currentTime + START_DELAY_S);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.publish();
    this.emit();
  }

  /** Pause where we are; when already stopped, go back to the start. */
  stop(): void {
    if (this.playing) this.halt(this.position());
    else this.pausedAt = 0;
    this.publish();
    this.emit();
  }

  /** Pause where we are (a stopped player stays put). */
  pause(): void {
    if (!this.playing) return;
    this.halt(this.position());
    this.publish();
    this.emit();
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  seek(timeS: number): void {
    const t = Number.isFinite(timeS) ? Math.max(0, timeS) : 0;
    if (this.playing && this.ctx) {
      this.silence();
      this.startPass(t, this.ctx.currentTime + START_DELAY_S);
    } else {
      this.pausedAt = t;
    }
    this.publish();
    this.emit();
  }

  /** Loop over `range` (on), or stop looping (null; the range is kept for next time). */
  setLoop(range: LoopRange | null): void {
    if (range) {
      const startS = Math.max(0, Math.min(range.startS, range.endS));
      const endS = Math.max(startS + MIN_LOOP_S, range.startS, range.endS);
      this.loopRange = { startS, endS };
    }
    this.loop = range !== null;
    if (this.playing) this.restart();
    this.emit();
  }

  /** Change the loop's range without turning it on or off. */
  setLoopRange(range: LoopRange): void {
    if (this.loop) {
      this.setLoop(range);
      return;
    }
    const startS = Math.max(0, Math.min(range.startS, range.endS));
    this.loopRange = { startS, endS: Math.max(startS + MIN_LOOP_S, range.startS, range.endS) };
    this.emit();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.halt(this.position());
    this.destroyed = true;
    tracksOf(this.doc).unobserveDeep(this.onDocChange);
    this.listeners.clear();
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
    if (this.awareness.getLocalState()) this.awareness.setLocalStateField("playhead", null);
  }

  // ------------------------------------------------------------ engine

  /** The audio context, created on the first play (a user gesture, for the autoplay policy). */
  private context(): AudioContext {
    if (!this.ctx) {
      const ctx = new AudioContext({ latencyHint: "interactive" });
      this.master = ctx.createGain();
      this.master.connect(ctx.destination);
      this.ctx = ctx;
      this.syncStrips();
    }
    return this.ctx;
  }

  private startPass(from: number, ctxStart: number): void {
    const inLoop = this.loop && from < this.loopRange.endS;
    const pass: Pass = { ctxStart, songFrom: from, songTo: inLoop ? this.loopRange.endS : Infinity, deferred: new Set() };
    this.passes = [pass];
    for (const clip of this.clips.values()) this.schedule(clip, pass);
  }

  private restart(): void {
    if (!this.ctx) return;
    const at = this.position();
    this.silence();
    this.startPass(at, this.ctx.currentTime + START_DELAY_S);
  }

  private halt(at: number): void {
    this.pausedAt = at;
    this.playing = false;
    this.silence();
    this.passes = [];
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private silence(): void {
    for (const voice of this.voices) this.stopVoice(voice);
    this.voices.clear();
  }

  private stopVoice(voice: Voice): void {
    try {
      voice.source.stop();
    } catch {
      // never started or already stopped
    }
    voice.source.disconnect();
    voice.gain.disconnect();
    this.voices.delete(voice);
  }

  /** Schedule the part of `clip` that falls in `pass` and has not been played yet. */
  private schedule(clip: Clip, pass: Pass): void {
    const ctx = this.ctx;
    const buffer = this.buffers.get(clip.assetId);
    const strip = this.strips.get(clip.trackId);
    if (!ctx || !buffer || !strip || !this.playing) return;
    const now = ctx.currentTime + 0.01;
    const passNow = pass.songFrom + Math.max(0, now - pass.ctxStart);
    const from = Math.max(clip.startS, passNow);
    const to = Math.min(clip.startS + clip.durationS, pass.songTo, clip.startS + buffer.duration - clip.offsetS);
    const key = clipKey(clip);
    if (to - from <= 0.001) {
      pass.deferred.delete(key);
      return;
    }
    const when = pass.ctxStart + (from - pass.songFrom);
    if (when - ctx.currentTime > WINDOW_S) {
      pass.deferred.add(key);
      return;
    }
    pass.deferred.delete(key);
    const offset = clip.offsetS + (from - clip.startS);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    const gain = ctx.createGain();
    gain.gain.value = dbToGain(clip.gainDb);
    source.connect(gain).connect(strip.gain);
    const voice: Voice = { key, pass, source, gain };
    source.onended = () => {
      if (this.voices.has(voice)) this.stopVoice(voice);
    };
    source.start(Math.max(when, ctx.currentTime), offset, to - from);
    this.voices.add(voice);
  }

  private tick(): void {
    const ctx = this.ctx;
    if (!ctx || !this.playing) return;
    const now = ctx.currentTime;
    while (this.passes.length > 1 && this.passes[1].ctxStart <= now) this.passes.shift();
    for (const pass of this.passes) {
      for (const key of [...pass.deferred]) {
        const clip = this.clips.get(key);
        if (clip) this.schedule(clip, pass);
        else pass.deferred.delete(key);
      }
    }
    const last = this.passes[this.passes.length - 1];
    if (last && Number.isFinite(last.songTo)) {
      const endsAt = last.ctxStart + (last.songTo - last.songFrom);
      if (this.loop && endsAt - now < lookahead()) {
        const next: Pass = { ctxStart: endsAt, songFrom: this.loopRange.startS, songTo: this.loopRange.endS, deferred: new Set() };
        this.passes.push(next);
        for (const clip of this.clips.values()) this.schedule(clip, next);
      }
    } else if (last && !this.loop && this.songEnd > 0 && last.songFrom < this.songEnd && this.position() >= this.songEnd) {
      // The song is over: pause at its end (the next play starts it again).
      this.halt(this.songEnd);
      this.publish();
      this.emit();
      return;
    }
    if (Date.now() - this.lastPublish >= PUBLISH_MS) this.publish();
  }

  private ensureBuffer(assetId: string): void {
    const ctx = this.ctx;
    if (!ctx || this.buffers.has(assetId) || this.decoding.has(assetId) || this.failed.has(assetId)) return;
    const pending = assetBytes(this.api, assetId)
      // decodeAudioData detaches its input; the cached download stays usable for others.
      .then((bytes) => ctx.decodeAudioData(bytes.slice(0)))
      .then(
        (buffer) => {
          this.buffers.set(assetId, buffer);
          // Join in where the song is now.
          for (const clip of this.clips.values()) {
            if (clip.assetId === assetId) for (const pass of this.passes) this.schedule(clip, pass);
          }
        },
        (err: unknown) => {
          this.failed.add(assetId);
          this.error = `Some audio could not be played (${err instanceof Error ? err.message : "decoding failed"}).`;
        },
      )
      .finally(() => {
        this.decoding.delete(assetId);
        this.emit();
      });
    this.decoding.set(assetId, pending);
    if (this.decoding.size === 1) this.emit();
  }

  // ------------------------------------------------------------ the document

  private syncDocument(): void {
    this.tracks = readTracks(this.doc);
    const next = new Map<string, Clip>();
    let end = 0;
    for (const track of this.tracks) {
      for (const clip of track.clips) {
        next.set(clipKey(clip), clip);
        end = Math.max(end, clip.startS + clip.durationS);
      }
    }
    this.songEnd = end;
    this.syncStrips();
    const previous = this.clips;
    this.clips = next;
    if (!this.ctx) return;
    for (const [key, clip] of previous) {
      const now = next.get(key);
      if (now && clipShape(now) === clipShape(clip)) {
        if (now.gainDb !== clip.gainDb) this.setVoiceGains(key, now.gainDb);
        continue;
      }
      for (const voice of [...this.voices]) if (voice.key === key) this.stopVoice(voice);
    }
    for (const [key, clip] of next) {
      const before = previous.get(key);
      if (before && clipShape(before) === clipShape(clip)) continue;
      this.ensureBuffer(clip.assetId);
      for (const pass of this.passes) this.schedule(clip, pass);
    }
  }

  private setVoiceGains(key: string, gainDb: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    for (const voice of this.voices) if (voice.key === key) voice.gain.gain.setTargetAtTime(dbToGain(gainDb), ctx.currentTime, 0.02);
  }

  /** One strip per track; gains and pans follow the document smoothly (no clicks). */
  private syncStrips(): void {
    const ctx = this.ctx;
    const master = this.master;
    if (!ctx || !master) return;
    const audible = audibleTracks(this.tracks);
    const seen = new Set<string>();
    for (const track of this.tracks) {
      seen.add(track.id);
      let strip = this.strips.get(track.id);
      if (!strip) {
        const gain = ctx.createGain();
        const pan = ctx.createStereoPanner();
        gain.connect(pan).connect(master);
        gain.gain.value = audible.has(track.id) ? dbToGain(track.volumeDb) : 0;
        pan.pan.value = track.pan;
        strip = { gain, pan };
        this.strips.set(track.id, strip);
        continue;
      }
      strip.gain.gain.setTargetAtTime(audible.has(track.id) ? dbToGain(track.volumeDb) : 0, ctx.currentTime, 0.015);
      strip.pan.pan.setTargetAtTime(Math.max(-1, Math.min(1, track.pan)), ctx.currentTime, 0.015);
    }
    for (const [id, strip] of this.strips) {
      if (seen.has(id)) continue;
      strip.gain.disconnect();
      strip.pan.disconnect();
      this.strips.delete(id);
    }
  }

  // ------------------------------------------------------------ sharing and listeners

  /** Tell peers where this tab's playhead is (they extrapolate while it plays). */
  private publish(): void {
    if (this.destroyed) return;
    this.lastPublish = Date.now();
    const playhead: SharedPlayhead = { time_s: this.position(), playing: this.playing, at: this.lastPublish };
    this.awareness.setLocalStateField("playhead", playhead);
  }

  private makeState(): PlayerState {
    return { playing: this.playing, loop: this.loop, loopRange: this.loopRange, loading: this.loading, error: this.error };
  }

  private emit(): void {
    this.state = this.makeState();
    for (const listener of [...this.listeners]) listener();
  }
}

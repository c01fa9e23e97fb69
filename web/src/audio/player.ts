// The Web Audio playback engine. The shared document is the score: every track is a
// strip into the master (strip.ts: the mixer's volume and pan law, and the automation
// lanes), every clip an AudioBufferSourceNode (its region looped loop_count times)
// through its own gain carrying the clip's gain and fades (arrangement.ts has the
// arithmetic, the renderer's), scheduled on the AudioContext clock. Edits by anyone (a
// peer moving a clip, muting a track, drawing automation) are applied live while playing.
//
// Time is kept as "passes": a pass plays song time [songFrom, songTo) from context
// time ctxStart. Playing without a loop is one open-ended pass; a loop is a chain of
// passes over the loop range, each scheduled by a lookahead timer shortly before the
// previous one ends (never on animation frames).
import type * as Y from "yjs";
import type { Awareness } from "y-protocols/awareness";
import type { ApiClient } from "../api/client";
import { assetBytes } from "../api/assets";
import { clipEndS, readTracks, tracksOf, type Clip, type Track } from "../doc/model";
import { clipEnvelope } from "./arrangement";
import { TrackStrip } from "./strip";
import { scheduleEnvelope, startClipSources } from "./voices";

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
  /** One looping source, or one per repeat when the region runs past the asset's end. */
  sources: AudioBufferSourceNode[];
  gain: GainNode;
  /** The song time this voice plays, [fromS, toS). */
  fromS: number;
  toS: number;
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

/** The solo rule: if any track is soloed only soloed tracks play; muted tracks never. */
export function audibleTracks(tracks: Pick<Track, "id" | "mute" | "solo">[]): Set<string> {
  const anySolo = tracks.some((t) => t.solo);
  return new Set(tracks.filter((t) => !t.mute && (!anySolo || t.solo)).map((t) => t.id));
}

const clipKey = (clip: Clip) => `${clip.trackId}/${clip.id}`;
/** What the sources play: a change restarts the clip's voices. */
const clipShape = (clip: Clip) => `${clip.assetId}|${clip.startS}|${clip.offsetS}|${clip.durationS}|${clip.loopCount}`;
/** What the clip's gain node does: a change re-schedules its envelope only. */
const clipLevel = (clip: Clip) => `${clip.gainDb}|${clip.fadeInS}|${clip.fadeInCurve}|${clip.fadeOutS}|${clip.fadeOutCurve}`;
/** Voices start this far ahead of the clock, and live changes land this far ahead. */
const LEAD_S = 0.01;

export class Player {
  playing = false;
  loop = false;
  loopRange: LoopRange = { startS: 0, endS: 8 };
  private ctx: AudioContext | null = null;
  private master: GainNode | null = null;
  private strips = new Map<string, TrackStrip>();
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
    for (const strip of this.strips.values()) {
      strip.cancel();
      strip.schedule(pass, from);
    }
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
    for (const strip of this.strips.values()) strip.cancel();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private silence(): void {
    for (const voice of this.voices) this.stopVoice(voice);
    this.voices.clear();
  }

  private stopVoice(voice: Voice): void {
    for (const source of voice.sources) {
      try {
        source.stop();
      } catch {
        // never started or already stopped
      }
      source.disconnect();
    }
    voice.gain.disconnect();
    this.voices.delete(voice);
  }

  /** Schedule the part of `clip` that falls in `pass` and has not been played yet. */
  private schedule(clip: Clip, pass: Pass): void {
    const ctx = this.ctx;
    const buffer = this.buffers.get(clip.assetId);
    const strip = this.strips.get(clip.trackId);
    if (!ctx || !buffer || !strip || !this.playing) return;
    const now = ctx.currentTime + LEAD_S;
    const passNow = pass.songFrom + Math.max(0, now - pass.ctxStart);
    const from = Math.max(clip.startS, passNow);
    const to = Math.min(clipEndS(clip), pass.songTo);
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
    const sources = startClipSources(ctx, clip, buffer, from, to, pass);
    if (sources.length === 0) return; // the region lies past the asset's end: silence
    const gain = ctx.createGain();
    gain.gain.value = clipEnvelope(clip, from - clip.startS);
    gain.connect(strip.input);
    const voice: Voice = { key, pass, sources, gain, fromS: from, toS: to };
    for (const source of sources) source.connect(gain);
    let playing = sources.length;
    for (const source of sources) {
      source.onended = () => {
        if (--playing === 0 && this.voices.has(voice)) this.stopVoice(voice);
      };
    }
    scheduleEnvelope(gain.gain, clip, from, to, pass);
    this.voices.add(voice);
  }

  /** Re-schedule a playing voice's gain (the clip's gain or fades changed) from now on. */
  private reshapeVoice(voice: Voice, clip: Clip): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const pass = voice.pass;
    const songNow = pass.songFrom + Math.max(0, ctx.currentTime + LEAD_S - pass.ctxStart);
    const from = Math.min(voice.toS, Math.max(voice.fromS, songNow));
    const param = voice.gain.gain;
    param.cancelScheduledValues(ctx.currentTime);
    scheduleEnvelope(param, clip, from, voice.toS, pass);
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
        for (const strip of this.strips.values()) strip.schedule(next, next.songFrom);
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
          // A stereo take makes its track stereo (the pan law becomes a balance).
          this.syncStrips();
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
        end = Math.max(end, clipEndS(clip));
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
        if (clipLevel(now) !== clipLevel(clip)) for (const voice of this.voices) if (voice.key === key) this.reshapeVoice(voice, now);
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

  /** Channels of a track as the renderer counts them: its widest decoded clip's (mono or stereo). */
  private channelsOf(track: Track): number {
    let channels = 1;
    for (const clip of track.clips) {
      const buffer = this.buffers.get(clip.assetId);
      if (buffer) channels = Math.max(channels, Math.min(2, buffer.numberOfChannels));
    }
    return channels;
  }

  /** One strip per track; gains follow the document smoothly (no clicks), lanes on the clock. */
  private syncStrips(): void {
    const ctx = this.ctx;
    const master = this.master;
    if (!ctx || !master) return;
    const audible = audibleTracks(this.tracks);
    const seen = new Set<string>();
    for (const track of this.tracks) {
      seen.add(track.id);
      const settings = { volumeDb: track.volumeDb, pan: track.pan, volumeLane: track.volumeLane, panLane: track.panLane };
      let strip = this.strips.get(track.id);
      if (!strip) {
        strip = new TrackStrip(ctx, master);
        strip.setAudible(audible.has(track.id), true);
        strip.update(settings, this.channelsOf(track), true);
        this.strips.set(track.id, strip);
        if (this.playing) for (const pass of this.passes) strip.schedule(pass, this.passStart(pass));
        continue;
      }
      strip.setAudible(audible.has(track.id));
      if (!strip.update(settings, this.channelsOf(track))) continue;
      strip.cancel();
      if (this.playing) for (const pass of this.passes) strip.schedule(pass, this.passStart(pass));
    }
    for (const [id, strip] of this.strips) {
      if (seen.has(id)) continue;
      strip.disconnect();
      this.strips.delete(id);
    }
  }

  /** The song time from which `pass` is still to be scheduled (now, or its start if it is ahead). */
  private passStart(pass: Pass): number {
    const now = (this.ctx?.currentTime ?? 0) + LEAD_S;
    return pass.songFrom + Math.max(0, now - pass.ctxStart);
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

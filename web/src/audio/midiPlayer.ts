// MIDI tracks heard in the browser as the server renders them: FluidSynth (js-synthesizer,
// FluidSynth 2.3 compiled to WASM, the engine of audio_services/midi_render.py) with the
// server's SoundFont (GET /api/v1/soundfont), one synthesizer per track in an audio
// worklet, notes stamped with AudioContext frames (midiEvents.ts has the timing).
//
// This module is loaded on demand (dynamic import): its worklet code (~220 KB gzipped)
// and the 6 MB SoundFont are fetched only once a MIDI track is heard.
import type * as Y from "yjs";
import libfluidsynthUrl from "js-synthesizer/externals/libfluidsynth-2.3.0.js?url&no-inline";
import jsSynthesizerUrl from "js-synthesizer/dist/js-synthesizer.worklet.min.js?url&no-inline";
import processorUrl from "./midiWorklet.ts?worker&url";
import { metaOf, readMeta, tracksOf } from "../doc/model";
import { readMidiTracks, type MidiTrack } from "../doc/midi";
import { passFrameEvents, songNoteEvents, type MidiPass, type SongNoteEvent } from "./midiEvents";
import { MIDI_PROCESSOR_NAME, type MidiWorkletMessage, type MidiWorkletReply } from "./midiProtocol";

export const SOUNDFONT_URL = "/api/v1/soundfont";
/** Notes are scheduled this far ahead of the audio clock (s). */
const LEAD_S = 0.03;
/** A looped pass is queued this long before the previous one ends (s). */
const LOOP_AHEAD_S = 1;
const TICK_MS = 100;
const PREVIEW_S = 0.4;
/** A synthesizer that has not started by then never will (WebAssembly refused, say). */
const START_TIMEOUT_MS = 30_000;

export class SoundFontError extends Error {}

async function fetchSoundFont(): Promise<ArrayBuffer> {
  const response = await fetch(SOUNDFONT_URL);
  if (!response.ok) throw new SoundFontError(`the SoundFont could not be loaded (HTTP ${response.status})`);
  return response.arrayBuffer();
}

/** The synthesizer's code in one AudioContext and the SoundFont, each loaded once. */
export class MidiEngine {
  private modules: Promise<void> | null = null;
  private font: Promise<ArrayBuffer> | null = null;

  constructor(
    readonly ctx: BaseAudioContext,
    private readonly loadSoundFont: () => Promise<ArrayBuffer> = fetchSoundFont,
  ) {}

  /** A started synthesizer playing GM `program` into `destination`. */
  async synth(program: number, destination: AudioNode): Promise<TrackSynth> {
    this.modules ??= this.addModules();
    this.font ??= this.loadSoundFont();
    // A failed load is tried again next time.
    const [, font] = await Promise.all([this.modules, this.font]).catch((error: unknown) => {
      this.modules = null;
      this.font = null;
      throw error;
    });
    const node = new AudioWorkletNode(this.ctx, MIDI_PROCESSOR_NAME, { numberOfInputs: 0, outputChannelCount: [2] });
    node.connect(destination);
    const synth = new TrackSynth(node);
    const copy = font.slice(0);
    synth.post({ type: "init", soundfont: copy, program }, [copy]);
    try {
      await synth.ready;
    } catch (error) {
      synth.close();
      throw error;
    }
    return synth;
  }

  private async addModules(): Promise<void> {
    // In order: FluidSynth's WASM, js-synthesizer's worklet half, then our processor.
    for (const url of [libfluidsynthUrl, jsSynthesizerUrl, processorUrl]) await this.ctx.audioWorklet.addModule(url);
  }
}

/** One FluidSynth in the audio worklet (one per MIDI track). */
export class TrackSynth {
  readonly ready: Promise<void>;

  constructor(readonly node: AudioWorkletNode) {
    this.ready = new Promise((resolve, reject) => {
      // FluidSynth's WASM failing to compile (a page whose CSP lacks 'wasm-unsafe-eval')
      // says nothing: the synthesizer just never answers.
      const timer = setTimeout(() => reject(new SoundFontError("the synthesizer did not start")), START_TIMEOUT_MS);
      node.port.onmessage = (event: MessageEvent<MidiWorkletReply>) => {
        clearTimeout(timer);
        if (event.data.type === "ready") resolve();
        else reject(new SoundFontError(event.data.message));
      };
      node.onprocessorerror = () => {
        clearTimeout(timer);
        reject(new SoundFontError("the synthesizer stopped with an error"));
      };
    });
  }

  post(message: MidiWorkletMessage, transfer: Transferable[] = []): void {
    this.node.port.postMessage(message, transfer);
  }

  close(): void {
    this.post({ type: "close" });
    this.node.disconnect();
  }
}

/** Where a MIDI track's sound goes: a strip of the mixer, or (default) a gain into the speakers. */
export type DestinationFor = (trackId: string, ctx: BaseAudioContext) => AudioNode;

interface TrackState {
  synth: TrackSynth | null;
  pending: Promise<TrackSynth | null>;
  events: SongNoteEvent[];
  program: number;
  output: GainNode | null;
}

const dbToGain = (db: number): number => (db <= -96 ? 0 : Math.pow(10, db / 20));

/**
 * Every MIDI track of a document, played from a song position on an AudioContext:
 * `start(atSongS)` and `stop()` follow the transport; `preview(trackId, pitch)` plays one
 * note now. Edits by anyone (notes, tempo, instrument) apply while playing.
 */
export class MidiSongPlayer {
  private tracks = new Map<string, TrackState>();
  /** What is queued: the pass playing and, when looping, the next; `tag` makes each pass's notes its own. */
  private passes: Array<MidiPass & { tag: string }> = [];
  private passCount = 0;
  private loop: { startS: number; endS: number } | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private bpm: number;
  private destroyed = false;
  private readonly onChange = () => this.sync();
  /** The last problem (no SoundFont, no AudioWorklet), for the interface to show. */
  error: string | null = null;

  constructor(
    readonly doc: Y.Doc,
    readonly engine: MidiEngine,
    private readonly destinationFor: DestinationFor | null = null,
  ) {
    this.bpm = readMeta(doc).bpm;
    tracksOf(doc).observeDeep(this.onChange);
    metaOf(doc).observe(this.onChange);
    this.sync();
  }

  get playing(): boolean {
    return this.passes.length > 0;
  }

  /** The song position (s) the synthesizers are at, from the audio clock. */
  position(): number {
    const now = this.engine.ctx.currentTime;
    let pass = this.passes[0];
    if (!pass) return 0;
    for (const p of this.passes) if (p.ctxStartS <= now) pass = p;
    return Math.min(pass.songToS, pass.songFromS + Math.max(0, now - pass.ctxStartS));
  }

  /** Play from `atSongS` at context time `whenCtxS` (default: now + a short lead); loop over `loop` when given. */
  start(atSongS: number, options: { whenCtxS?: number; loop?: { startS: number; endS: number } | null } = {}): void {
    if (this.destroyed) return;
    this.stopSynths();
    this.loop = options.loop && options.loop.endS > options.loop.startS ? options.loop : null;
    const ctxStartS = options.whenCtxS ?? this.engine.ctx.currentTime + LEAD_S;
    const inLoop = this.loop !== null && atSongS < this.loop.endS;
    this.passes = [{ songFromS: atSongS, songToS: inLoop && this.loop ? this.loop.endS : Infinity, ctxStartS, tag: this.nextTag() }];
    for (const id of this.tracks.keys()) this.schedule(id, "replace");
    if (this.timer === null) this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    this.passes = [];
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stopSynths();
  }

  /** Sound `pitch` on `trackId`'s instrument now (the piano roll's feedback). */
  async preview(trackId: string, pitch: number, velocity = 100, seconds = PREVIEW_S): Promise<void> {
    const synth = await this.tracks.get(trackId)?.pending;
    if (!synth) return;
    const rate = this.engine.ctx.sampleRate;
    const at = Math.round((this.engine.ctx.currentTime + LEAD_S) * rate);
    const key = `preview/${pitch}/${at}`;
    synth.post({ type: "add", events: [ { frame: at, pitch, velocity, key }, { frame: at + Math.round(seconds * rate), pitch, velocity: 0, key } ] });
  }

  /** Resolves once every MIDI track's synthesizer is loaded (rejects if one cannot be). */
  async loaded(): Promise<void> {
    await Promise.all([...this.tracks.values()].map((t) => t.pending));
    if (this.error) throw new SoundFontError(this.error);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.stop();
    this.destroyed = true;
    tracksOf(this.doc).unobserveDeep(this.onChange);
    metaOf(this.doc).unobserve(this.onChange);
    for (const state of this.tracks.values()) this.closeTrack(state);
    this.tracks.clear();
  }

  // ------------------------------------------------------------ internals

  private sync(): void {
    if (this.destroyed) return;
    const bpm = readMeta(this.doc).bpm;
    const tempoChanged = bpm !== this.bpm;
    this.bpm = bpm;
    const tracks = readMidiTracks(this.doc);
    const anySolo = tracks.some((t) => t.solo);
    const seen = new Set<string>();
    for (const track of tracks) {
      seen.add(track.id);
      const events = songNoteEvents(track.clips, bpm);
      let state = this.tracks.get(track.id);
      if (!state) {
        state = this.openTrack(track);
        this.tracks.set(track.id, state);
      } else if (state.program !== track.instrument) {
        state.program = track.instrument;
        state.synth?.post({ type: "program", program: track.instrument });
      }
      if (state.output) state.output.gain.value = !track.mute && (!anySolo || track.solo) ? dbToGain(track.volumeDb) : 0;
      const changed = tempoChanged || !sameEvents(state.events, events);
      state.events = events;
      if (changed && this.playing) this.schedule(track.id, "replace");
    }
    for (const [id, state] of this.tracks) {
      if (seen.has(id)) continue;
      this.closeTrack(state);
      this.tracks.delete(id);
    }
  }

  private openTrack(track: MidiTrack): TrackState {
    const ctx = this.engine.ctx;
    const output = this.destinationFor ? null : ctx.createGain();
    output?.connect(ctx.destination);
    const destination = this.destinationFor ? this.destinationFor(track.id, ctx) : (output as GainNode);
    const state: TrackState = { synth: null, pending: Promise.resolve(null), events: [], program: track.instrument, output };
    state.pending = this.engine.synth(track.instrument, destination).then(
      (synth) => {
        if (this.destroyed || this.tracks.get(track.id) !== state) {
          synth.close();
          return null;
        }
        state.synth = synth;
        if (state.program !== track.instrument) synth.post({ type: "program", program: state.program });
        // Join the song where it is now.
        if (this.playing) this.schedule(track.id, "replace");
        return synth;
      },
      (error: unknown) => {
        this.error = error instanceof Error ? error.message : String(error);
        return null;
      },
    );
    return state;
  }

  private closeTrack(state: TrackState): void {
    state.synth?.close();
    state.synth = null;
    state.output?.disconnect();
  }

  /** Send a track's notes of every queued pass still to come ("replace") or of the last pass ("add"). */
  private schedule(trackId: string, mode: "replace" | "add"): void {
    const state = this.tracks.get(trackId);
    if (!state?.synth || this.passes.length === 0) return;
    const ctx = this.engine.ctx;
    const rate = ctx.sampleRate;
    const nowCtx = ctx.currentTime + LEAD_S;
    const passes = mode === "add" ? this.passes.slice(-1) : this.passes;
    const events = passes.flatMap((pass) => passFrameEvents(state.events, pass, rate, pass.tag, pass.songFromS + Math.max(0, nowCtx - pass.ctxStartS)));
    state.synth.post({ type: mode, events });
  }

  private tick(): void {
    const loop = this.loop;
    const last = this.passes[this.passes.length - 1];
    if (!loop || !last || !Number.isFinite(last.songToS)) return;
    const now = this.engine.ctx.currentTime;
    while (this.passes.length > 1 && this.passes[1].ctxStartS <= now) this.passes.shift();
    const endsAt = last.ctxStartS + (last.songToS - last.songFromS);
    if (endsAt - now > LOOP_AHEAD_S) return;
    this.passes.push({ songFromS: loop.startS, songToS: loop.endS, ctxStartS: endsAt, tag: this.nextTag() });
    for (const id of this.tracks.keys()) this.schedule(id, "add");
  }

  private nextTag(): string {
    return `@${this.passCount++}`;
  }

  private stopSynths(): void {
    for (const state of this.tracks.values()) state.synth?.post({ type: "stop" });
  }
}

function sameEvents(a: SongNoteEvent[], b: SongNoteEvent[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((e, i) => e.timeS === b[i].timeS && e.pitch === b[i].pitch && e.velocity === b[i].velocity && e.key === b[i].key);
}

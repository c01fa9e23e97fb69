// The studio's MIDI sound, loaded only when needed: the synthesizer (midiPlayer.ts, a
// separate chunk) is imported the first time a MIDI track is heard, so a studio without
// MIDI never downloads it. Until the transport itself schedules MIDI tracks, the
// session follows it: when the song plays, the MIDI tracks play from the same position
// on an AudioContext of their own (one per document, created in the play gesture).
import type * as Y from "yjs";
import type { Player } from "./player";
import type { MidiSongPlayer } from "./midiPlayer";
import { readMidiTracks } from "../doc/midi";

/** The transport and the MIDI tracks may drift apart by this much before MIDI is re-synced (s). */
const RESYNC_S = 0.08;

export class MidiSession {
  private ctx: AudioContext | null = null;
  private player: Promise<MidiSongPlayer> | null = null;
  private destroyed = false;

  constructor(readonly doc: Y.Doc) {}

  /** Whether the document has a MIDI note to play (nothing is loaded otherwise). */
  hasNotes(): boolean {
    return readMidiTracks(this.doc).some((t) => t.clips.some((c) => c.notes.length > 0));
  }

  /**
   * The AudioContext, created (or resumed) now: call it in a user gesture (a click) so the
   * browser lets it sound.
   */
  context(): AudioContext {
    if (!this.ctx) this.ctx = new AudioContext({ latencyHint: "interactive" });
    if (this.ctx.state === "suspended") void this.ctx.resume();
    return this.ctx;
  }

  /** The song player, loading the synthesizer's code the first time. */
  songPlayer(): Promise<MidiSongPlayer> {
    if (this.destroyed) return Promise.reject(new Error("the MIDI session is closed"));
    const ctx = this.context();
    this.player ??= import("./midiPlayer").then(({ MidiEngine, MidiSongPlayer }) => {
      const player = new MidiSongPlayer(this.doc, new MidiEngine(ctx));
      if (this.destroyed) player.destroy();
      return player;
    });
    return this.player;
  }

  /**
   * Play the MIDI tracks along with `transport`: start where it starts (looping as it
   * loops), stop when it stops, jump when it seeks. Returns the unsubscribe function.
   */
  follow(transport: Player): () => void {
    let playing = false;
    let loading = false;
    let loopKey = "";
    const startFromTransport = (midi: MidiSongPlayer) => {
      const state = transport.getState();
      if (!state.playing) return;
      midi.start(transport.position(), { loop: state.loop ? state.loopRange : null });
    };
    const onChange = () => {
      const state = transport.getState();
      const loopWas = loopKey;
      loopKey = state.loop ? `${state.loopRange.startS}-${state.loopRange.endS}` : "";
      if (!state.playing) {
        if (playing) void this.player?.then((midi) => midi.stop());
        playing = false;
        return;
      }
      if (!playing) {
        playing = true;
        if (!this.player && !this.hasNotes()) return;
        loading = true;
        this.songPlayer().then(
          (midi) => {
            loading = false;
            // Joins at the transport's position once the synthesizers are ready.
            void midi.loaded().catch(() => undefined).then(() => startFromTransport(midi));
          },
          () => (loading = false),
        );
        return;
      }
      // Playing: a seek, or the loop changed.
      if (loading || !this.player) return;
      void this.player.then((midi) => {
        const drift = Math.abs(midi.position() - transport.position());
        if (!midi.playing || loopWas !== loopKey || drift > RESYNC_S) startFromTransport(midi);
      });
    };
    return transport.subscribe(onChange);
  }

  destroy(): void {
    this.destroyed = true;
    void this.player?.then((midi) => midi.destroy());
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
  }
}

const sessions = new WeakMap<Y.Doc, MidiSession>();

/** The document's MIDI session (one per document, like its selection store). */
export function midiSessionFor(doc: Y.Doc): MidiSession {
  let session = sessions.get(doc);
  if (!session) {
    session = new MidiSession(doc);
    sessions.set(doc, session);
  }
  return session;
}

/** Close the document's MIDI session (the studio is leaving). */
export function closeMidiSession(doc: Y.Doc): void {
  sessions.get(doc)?.destroy();
  sessions.delete(doc);
}

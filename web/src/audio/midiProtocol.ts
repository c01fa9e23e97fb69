// What the main thread and a MIDI synthesizer's audio worklet (midiWorklet.ts) say to
// each other. Kept apart from the worklet module, which registers its processor when
// loaded and so must never be imported by the page.
import type { FrameEvent } from "./midiEvents";

/** What the main thread sends a synthesizer node. */
export type MidiWorkletMessage =
  | { type: "init"; soundfont: ArrayBuffer; program: number }
  | { type: "program"; program: number }
  | { type: "add"; events: FrameEvent[] }
  | { type: "replace"; events: FrameEvent[] }
  | { type: "stop" }
  | { type: "close" };

/** What a synthesizer node answers. */
export type MidiWorkletReply = { type: "ready" } | { type: "error"; message: string };

export const MIDI_PROCESSOR_NAME = "jacameno-midi";
/** FluidSynth's master gain in the server's renderer (audio_services/midi_render.SYNTH_GAIN). */
export const SYNTH_GAIN = 0.5;

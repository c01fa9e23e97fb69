// The audio-thread half of a MIDI track's synthesizer: FluidSynth (js-synthesizer's
// WASM build, loaded into this AudioWorkletGlobalScope before this module) playing the
// General MIDI SoundFont the server renders with, set up as the server's renderer sets
// it up (gain 0.5, reverb and chorus off, channel 0, bank 0, the track's program).
// Note events arrive stamped with AudioContext frames; each block is rendered up to an
// event's frame before the event is applied, so notes land where they were scheduled
// (FluidSynth itself starts a note at its next 64-frame step, as on the server).
// Bundled on its own (`?worker&url`) and loaded with audioWorklet.addModule.
import type { Synthesizer } from "js-synthesizer";
import { MIDI_PROCESSOR_NAME, SYNTH_GAIN, type MidiWorkletMessage, type MidiWorkletReply } from "./midiProtocol";
import { NoteQueue } from "./midiQueue";

const CHANNEL = 0;

// The AudioWorkletGlobalScope (TypeScript's DOM library does not describe it).
interface WorkletProcessor {
  readonly port: MessagePort;
}
declare const AudioWorkletProcessor: { new (): WorkletProcessor; prototype: WorkletProcessor };
declare function registerProcessor(name: string, processor: unknown): void;
declare const currentFrame: number;
declare const sampleRate: number;
declare const AudioWorkletGlobalScope: { JSSynth?: { Synthesizer: { new (): Synthesizer; waitForWasmInitialized(): Promise<void> } } };

class MidiProcessor extends AudioWorkletProcessor {
  private synth: Synthesizer | null = null;
  private font = -1;
  private program = 0;
  private queue = new NoteQueue();
  private closed = false;
  /** Where a mono output's missing right channel is rendered (never expected: the node asks for 2). */
  private scratch = new Float32Array(128);

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<MidiWorkletMessage>) => this.receive(event.data);
  }

  private receive(message: MidiWorkletMessage): void {
    switch (message.type) {
      case "init":
        this.program = message.program;
        void this.start(message.soundfont);
        break;
      case "program":
        this.program = message.program;
        if (this.synth && this.font >= 0) this.synth.midiProgramSelect(CHANNEL, this.font, 0, this.program);
        break;
      case "add":
        this.queue.add(message.events);
        break;
      case "replace":
        this.queue.replace(message.events);
        break;
      case "stop":
        for (const pitch of this.queue.clear()) this.synth?.midiNoteOff(CHANNEL, pitch);
        break;
      case "close":
        this.closed = true;
        this.queue.clear();
        this.synth?.close();
        this.synth = null;
        break;
    }
  }

  private async start(soundfont: ArrayBuffer): Promise<void> {
    try {
      const jssynth = AudioWorkletGlobalScope.JSSynth;
      if (!jssynth) throw new Error("js-synthesizer is not loaded in the audio worklet");
      await jssynth.Synthesizer.waitForWasmInitialized();
      const synth = new jssynth.Synthesizer();
      synth.init(sampleRate, { initialGain: SYNTH_GAIN, reverbActive: false, chorusActive: false });
      const font = await synth.loadSFont(soundfont);
      synth.midiProgramSelect(CHANNEL, font, 0, this.program);
      if (this.closed) {
        synth.close();
        return;
      }
      this.synth = synth;
      this.font = font;
      this.port.postMessage({ type: "ready" } satisfies MidiWorkletReply);
    } catch (error) {
      this.port.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) } satisfies MidiWorkletReply);
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (this.closed) return false;
    const synth = this.synth;
    const [left, right] = outputs[0];
    if (!synth || !left) return true;
    const frames = left.length;
    if (!right && this.scratch.length < frames) this.scratch = new Float32Array(frames);
    const other = right ?? this.scratch;
    const first = currentFrame;
    let done = 0;
    for (;;) {
      for (const event of this.queue.due(first + done)) {
        if (event.velocity > 0) synth.midiNoteOn(CHANNEL, event.pitch, event.velocity);
        else synth.midiNoteOff(CHANNEL, event.pitch);
      }
      if (done >= frames) break;
      const stop = Math.min(frames, Math.max(done + 1, this.queue.nextFrame() - first));
      synth.render([left.subarray(done, stop), other.subarray(done, stop)]);
      done = stop;
    }
    return true;
  }
}

registerProcessor(MIDI_PROCESSOR_NAME, MidiProcessor);

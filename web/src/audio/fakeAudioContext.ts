// A stand-in for the Web Audio API in the player's tests (jsdom has none): nodes record
// what is scheduled on them, the clock is set by hand. Not part of the app bundle.

export type ParamEvent =
  | { type: "set"; value: number; at: number }
  | { type: "target"; value: number; at: number }
  | { type: "curve"; values: number[]; at: number; duration: number }
  | { type: "cancel"; at: number };

export class FakeParam {
  events: ParamEvent[] = [];
  constructor(public value: number) {}
  setValueAtTime(value: number, at: number) {
    this.value = value;
    this.events.push({ type: "set", value, at });
  }
  setTargetAtTime(value: number, at: number) {
    this.value = value;
    this.events.push({ type: "target", value, at });
  }
  setValueCurveAtTime(values: Float32Array, at: number, duration: number) {
    this.events.push({ type: "curve", values: Array.from(values), at, duration });
  }
  cancelScheduledValues(at: number) {
    this.events.push({ type: "cancel", at });
  }
  /** The events after the last cancel. */
  get scheduled(): ParamEvent[] {
    const last = this.events.map((e) => e.type).lastIndexOf("cancel");
    return this.events.slice(last + 1);
  }
}

export interface FakeNode {
  kind: string;
  gain: FakeParam;
  outputs: unknown[];
  channelCount?: number;
  channelCountMode?: string;
  channelInterpretation?: string;
  connect<T>(node: T): T;
  disconnect(): void;
}

export interface FakeSource extends FakeNode {
  buffer: unknown;
  loop: boolean;
  loopStart: number;
  loopEnd: number;
  started: [number, number, number] | null;
  stopped: boolean;
  onended: (() => void) | null;
  start(when: number, offset: number, duration: number): void;
  stop(): void;
}

export class FakeContext {
  static last: FakeContext | null = null;
  /** What decodeAudioData gives: duration (s) and channels. */
  static decoded = { duration: 20, numberOfChannels: 1 };
  currentTime = 100;
  state = "running";
  destination = { kind: "destination" };
  nodes: FakeNode[] = [];
  sources: FakeSource[] = [];

  constructor() {
    FakeContext.last = this;
  }

  private node(kind: string): FakeNode {
    const node: FakeNode = {
      kind,
      gain: new FakeParam(1),
      outputs: [],
      connect<T>(target: T): T {
        node.outputs.push(target);
        return target;
      },
      disconnect() {
        node.outputs = [];
      },
    };
    this.nodes.push(node);
    return node;
  }

  createGain() {
    return this.node("gain");
  }
  createChannelSplitter() {
    return this.node("splitter");
  }
  createChannelMerger() {
    return this.node("merger");
  }
  createBufferSource(): FakeSource {
    const source = Object.assign(this.node("source"), {
      buffer: null as unknown,
      loop: false,
      loopStart: 0,
      loopEnd: 0,
      started: null as [number, number, number] | null,
      stopped: false,
      onended: null as (() => void) | null,
      start(when: number, offset: number, duration: number) {
        source.started = [when, offset, duration];
      },
      stop() {
        source.stopped = true;
      },
    });
    this.sources.push(source);
    return source;
  }
  decodeAudioData() {
    return Promise.resolve({ ...FakeContext.decoded });
  }
  resume() {
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }

  /** Sources started and not stopped. */
  live(): FakeSource[] {
    return this.sources.filter((s) => s.started && !s.stopped);
  }

  /** Each strip's gate, left and right gains, in creation order (a strip is gain, splitter, gain, gain, merger). */
  strips(): Array<{ gate: FakeNode; left: FakeNode; right: FakeNode }> {
    const out = [];
    for (let i = 0; i + 4 < this.nodes.length; i++) {
      if (this.nodes[i].kind === "gain" && this.nodes[i + 1].kind === "splitter") {
        out.push({ gate: this.nodes[i], left: this.nodes[i + 2], right: this.nodes[i + 3] });
      }
    }
    return out;
  }

  /** The gain node a source plays through (its clip's gain and fades). */
  voiceGain(source: FakeSource): FakeNode {
    return source.outputs[0] as FakeNode;
  }
}

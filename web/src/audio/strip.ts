// One track's channel strip in the player, wired like the mixer: a mute/solo gate (which
// also makes every input stereo: a mono clip reaches both sides), then the track's volume
// and constant-power pan as two gains, left and right, between a splitter and a merger.
// (A StereoPannerNode's law treats stereo input differently from the mixer's balance.)
// Without lanes the two gains follow the track's fixed volume and pan smoothly; with
// lanes they are scheduled per pass on the audio clock (sampled ramps, constant steps).
import { sampleRamp, stripGains, stripPlan, type PlanStep, type StripSettings } from "./arrangement";

/** Song time [songFrom, songTo) played from context time ctxStart (see player.ts). */
export interface PassTiming {
  ctxStart: number;
  songFrom: number;
  songTo: number;
}

/** Ramps end this much early so the next step's event never falls inside them. */
const RAMP_GUARD_S = 1e-5;
const SMOOTHING_S = 0.015;

/**
 * Schedule `steps` (song seconds) on `params` (one value function each), mapped to the
 * context's clock by `pass`. An automation the browser refuses is skipped, not thrown:
 * a wrong gain for a moment beats a dead player.
 */
export function applyPlan(params: AudioParam[], values: Array<(timeS: number) => number>, steps: PlanStep[], pass: PassTiming): void {
  const toCtx = (songS: number) => pass.ctxStart + (songS - pass.songFrom);
  for (const step of steps) {
    const when = toCtx(step.fromS);
    params.forEach((param, i) => {
      try {
        if (!step.ramp || !Number.isFinite(step.toS)) {
          param.setValueAtTime(values[i](step.fromS), when);
        } else {
          const curve = sampleRamp(values[i], step.fromS, step.toS);
          param.setValueCurveAtTime(curve, when, Math.max(RAMP_GUARD_S, toCtx(step.toS) - when - RAMP_GUARD_S));
        }
      } catch {
        // an overlapping or past event: keep the value the parameter has
      }
    });
  }
}

export class TrackStrip {
  /** Clips connect here. */
  readonly input: GainNode;
  private readonly splitter: ChannelSplitterNode;
  private readonly left: GainNode;
  private readonly right: GainNode;
  private readonly merger: ChannelMergerNode;
  private settings: StripSettings = { volumeDb: 0, pan: 0, volumeLane: [], panLane: [] };
  private channels = 1;

  constructor(
    private readonly ctx: BaseAudioContext,
    destination: AudioNode,
  ) {
    this.input = ctx.createGain();
    // Up-mix mono clips to both channels (speakers interpretation), as the renderer spreads them.
    this.input.channelCount = 2;
    this.input.channelCountMode = "explicit";
    this.input.channelInterpretation = "speakers";
    this.splitter = ctx.createChannelSplitter(2);
    this.left = ctx.createGain();
    this.right = ctx.createGain();
    this.merger = ctx.createChannelMerger(2);
    this.input.connect(this.splitter);
    this.splitter.connect(this.left, 0);
    this.splitter.connect(this.right, 1);
    this.left.connect(this.merger, 0, 0);
    this.right.connect(this.merger, 0, 1);
    this.merger.connect(destination);
  }

  get automated(): boolean {
    return this.settings.volumeLane.length > 0 || this.settings.panLane.length > 0;
  }

  /** Left and right gains at song time `timeS`. */
  gainsAt(timeS: number): [number, number] {
    return stripGains(this.settings, this.channels, timeS);
  }

  setAudible(audible: boolean, immediately = false): void {
    const value = audible ? 1 : 0;
    if (immediately) this.input.gain.value = value;
    else this.input.gain.setTargetAtTime(value, this.ctx.currentTime, SMOOTHING_S);
  }

  /**
   * New settings from the document (and the track's channel count). Returns whether the
   * gains changed in a way the scheduled passes must be redone for (lanes involved).
   */
  update(settings: StripSettings, channels: number, immediately = false): boolean {
    const before = JSON.stringify([this.settings, this.channels]);
    const wasAutomated = this.automated;
    this.settings = settings;
    this.channels = channels;
    if (before === JSON.stringify([settings, channels])) return false;
    if (this.automated || wasAutomated) return true;
    const [left, right] = this.gainsAt(0);
    if (immediately) {
      this.left.gain.value = left;
      this.right.gain.value = right;
    } else {
      this.left.gain.setTargetAtTime(left, this.ctx.currentTime, SMOOTHING_S);
      this.right.gain.setTargetAtTime(right, this.ctx.currentTime, SMOOTHING_S);
    }
    return false;
  }

  /** Drop what was scheduled from now on; without lanes, glide to the fixed gains. */
  cancel(): void {
    const now = this.ctx.currentTime;
    for (const param of [this.left.gain, this.right.gain]) param.cancelScheduledValues(now);
    if (!this.automated) {
      const [left, right] = this.gainsAt(0);
      this.left.gain.setTargetAtTime(left, now, SMOOTHING_S);
      this.right.gain.setTargetAtTime(right, now, SMOOTHING_S);
    }
  }

  /** Schedule the lanes over song time [fromS, pass.songTo) of `pass` (nothing without lanes). */
  schedule(pass: PassTiming, fromS: number): void {
    if (!this.automated || fromS >= pass.songTo) return;
    const steps = stripPlan(this.settings, fromS, pass.songTo);
    applyPlan([this.left.gain, this.right.gain], [(t) => this.gainsAt(t)[0], (t) => this.gainsAt(t)[1]], steps, pass);
  }

  disconnect(): void {
    for (const node of [this.input, this.splitter, this.left, this.right, this.merger]) node.disconnect();
  }
}

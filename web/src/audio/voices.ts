// A clip's voice in the player: the sources that play its region (looped on the source
// itself, or one per repeat when the region runs past the asset's end) and the envelope
// (gain and fades) scheduled on its gain node, both from wherever in the clip playback
// starts: a seek can land in the middle of a loop or of a fade.
import type { Clip } from "../doc/model";
import { clipEnvelope, clipPlayhead, envelopePlan } from "./arrangement";
import { applyPlan, type PassTiming } from "./strip";

/**
 * Sources playing song time [from, to) of `clip` (started, not connected), in the pass
 * `pass`; none when the region lies past the asset's end. Each repeat of a region that
 * runs past the asset's end is silent after it, as the renderer plays it.
 */
export function startClipSources(ctx: BaseAudioContext, clip: Clip, buffer: AudioBuffer, from: number, to: number, pass: PassTiming): AudioBufferSourceNode[] {
  const head = clipPlayhead(clip, from);
  const audibleS = Math.min(clip.durationS, buffer.duration - clip.offsetS);
  if (!head || audibleS <= 0.0005) return [];
  const at = (songS: number) => Math.max(pass.ctxStart + (songS - pass.songFrom), ctx.currentTime);
  const make = () => {
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    return source;
  };
  if (audibleS >= clip.durationS - 1e-6) {
    const source = make();
    if (clip.loopCount > 1) {
      source.loop = true;
      source.loopStart = clip.offsetS;
      source.loopEnd = clip.offsetS + clip.durationS;
    }
    source.start(at(from), head.assetS, to - from);
    return [source];
  }
  const sources: AudioBufferSourceNode[] = [];
  for (let loop = head.loop; loop < clip.loopCount; loop++) {
    const loopStart = clip.startS + loop * clip.durationS;
    if (loopStart >= to) break;
    const begin = Math.max(from, loopStart);
    const end = Math.min(to, loopStart + audibleS);
    if (end - begin <= 0.0005) continue;
    const source = make();
    source.start(at(begin), clip.offsetS + (begin - loopStart), end - begin);
    sources.push(source);
  }
  return sources;
}

/** The clip's gain and fades over song time [from, to) on `param`, on the pass's clock. */
export function scheduleEnvelope(param: AudioParam, clip: Clip, from: number, to: number, pass: PassTiming): void {
  applyPlan([param], [(t) => clipEnvelope(clip, t - clip.startS)], envelopePlan(clip, from, to), pass);
}

// What the Mix & master and Coaching panels say about jobs, from their results
// (audio_services/jobs/compute.py; `<role>_asset_id` added by jobs/execute.py).
import type { Job, Json, Mix } from "../doc/model";
import { isRecord, numberAt, signed } from "./figures";

/** Mix presets (audio_services/mix_presets.py). */
export const MIX_PRESETS: Array<[string, string]> = [
  ["pop", "Vocal-led, bright, moderate glue and a medium room."],
  ["hip-hop", "Vocal and drums up front, heavy low end, short dry space."],
  ["rock", "Drums and guitars forward, compressed drums, plate-like space."],
  ["electronic", "Kick and bass led, wide synths, big reverb on synths and effects."],
  ["acoustic", "Natural balance, light compression, a generous hall."],
  ["podcast", "Speech first and dry; music and effects sit well under the voice."],
];

/** Mastering presets (audio_services/mastering_settings.py MASTER_PRESETS). */
export const MASTER_PRESETS: Array<{ id: string; label: string; targetLufs: number; ceilingDbtp: number }> = [
  { id: "streaming", label: "Streaming", targetLufs: -14, ceilingDbtp: -1 },
  { id: "club", label: "Club", targetLufs: -9, ceilingDbtp: -1 },
  { id: "broadcast", label: "Broadcast (EBU R128)", targetLufs: -23, ceilingDbtp: -1 },
  { id: "podcast", label: "Podcast", targetLufs: -16, ceilingDbtp: -1 },
];

/** The request's accepted ranges (api/schemas.py MasteringRequest). */
export const TARGET_LUFS_RANGE = { min: -30, max: -5 };
export const CEILING_DBTP_RANGE = { min: -6, max: 0 };

const KIND_LABELS: Record<Job["kind"], string> = {
  analysis: "Analysis",
  mixing: "Mix",
  mastering: "Master",
  coaching: "Coaching",
  lyrics: "Lyrics",
};

export function jobLabel(job: Pick<Job, "kind">): string {
  return KIND_LABELS[job.kind];
}

export function jobStatusText(job: Pick<Job, "status" | "progress">): string {
  switch (job.status) {
    case "queued":
      return "Queued";
    case "running":
      return `Running, ${Math.round(job.progress * 100)}%`;
    case "done":
      return "Done";
    case "failed":
      return "Failed";
  }
}

/** The asset a finished mixing or mastering job made (render or master), if any. */
export function outputAssetId(job: Job): string | null {
  const key = job.kind === "mixing" ? "render_asset_id" : job.kind === "mastering" ? "master_asset_id" : job.kind === "coaching" ? "pitch_curve_asset_id" : null;
  const value = key && job.result ? job.result[key] : null;
  return typeof value === "string" ? value : null;
}

export interface Figure {
  label: string;
  value: string;
}

const lufs = (v: number | null) => (v === null ? "silent" : `${signed(v)} LUFS`);
const dbtp = (v: number | null) => (v === null ? "—" : `${signed(v)} dBTP`);

/** Measurements of a finished mix or master, for a definition list. */
export function jobFigures(job: Job, mix: Mix | null = null): Figure[] {
  const r = job.result;
  if (!r || job.status !== "done") return [];
  if (job.kind === "mixing") {
    // The preset is in the request line already.
    const out: Figure[] = [];
    out.push({ label: "Loudness", value: lufs(numberAt(r.integrated_lufs)) });
    out.push({ label: "True peak", value: dbtp(numberAt(r.true_peak_dbtp)) });
    return out;
  }
  if (job.kind === "mastering") {
    const output = isRecord(r.output) ? r.output : {};
    const isLatest = mix !== null && mix.masterAssetId !== null && mix.masterAssetId === r.master_asset_id;
    const loudness = numberAt(output.integrated_lufs) ?? (isLatest ? mix.masterLoudnessLufs : null);
    const peak = numberAt(output.true_peak_dbtp) ?? (isLatest ? mix.masterTruePeakDbtp : null);
    const range = numberAt(output.loudness_range_lu);
    const target = numberAt(r.target_lufs);
    const settings = isRecord(r.settings) ? r.settings : {};
    const ceiling = numberAt(settings.ceiling_dbtp);
    const out: Figure[] = [
      { label: "Loudness", value: lufs(loudness) + (target !== null ? ` (target ${signed(target)})` : "") },
      { label: "True peak", value: dbtp(peak) + (ceiling !== null ? ` (ceiling ${signed(ceiling)})` : "") },
      { label: "Loudness range", value: range === null ? "—" : `${range.toFixed(1)} LU` },
    ];
    const reduction = numberAt(r.limiter_reduction_db);
    if (reduction !== null) out.push({ label: "Limiter", value: `${reduction.toFixed(1)} dB reduction` });
    return out;
  }
  return [];
}

/** A one-line description of what was asked for (preset, targets, track). */
export function jobRequestText(job: Job, trackName: (id: string) => string | null): string {
  const p = job.params;
  const parts: string[] = [];
  if (typeof p.preset === "string") parts.push(p.preset);
  const target = numberAt(p.target_lufs);
  if (target !== null) parts.push(`${signed(target)} LUFS`);
  const ceiling = numberAt(p.ceiling_dbtp);
  if (ceiling !== null) parts.push(`${signed(ceiling)} dBTP`);
  if (typeof p.track_id === "string" && job.kind !== "analysis") parts.push(trackName(p.track_id) ?? "a deleted track");
  if (job.kind === "analysis" && typeof p.track_id === "string") parts.push(trackName(p.track_id) ?? "a deleted track");
  return parts.join(" · ");
}

/** Coaching summary figures (audio_services/coaching.py CoachingSummary). */
export function coachingFigures(summary: Record<string, Json>): Figure[] {
  const out: Figure[] = [];
  const pct = (key: string) => numberAt(summary[key]);
  const inTune = pct("percent_in_tune");
  if (inTune !== null) out.push({ label: "Notes in tune", value: `${Math.round(inTune)}%` });
  const timeInTune = pct("percent_time_in_tune");
  if (timeInTune !== null) out.push({ label: "Time in tune", value: `${Math.round(timeInTune)}%` });
  const cents = pct("median_abs_cents");
  if (cents !== null) out.push({ label: "Typical pitch error", value: `${Math.round(cents)} cents` });
  const mean = pct("mean_cents");
  if (mean !== null) {
    const side = Math.abs(mean) < 1 ? "centred" : mean < 0 ? "flat" : "sharp";
    out.push({ label: "Average pitch", value: `${signed(mean, 0, true)} cents (${side})` });
  }
  const timing = pct("median_abs_timing_ms");
  if (timing !== null) out.push({ label: "Typical timing error", value: `${Math.round(timing)} ms` });
  const offset = pct("mean_timing_offset_ms");
  if (offset !== null) {
    const side = Math.abs(offset) < 1 ? "on the beat" : offset < 0 ? "ahead" : "behind";
    out.push({ label: "Average timing", value: `${signed(offset, 0, true)} ms (${side})` });
  }
  const onTime = pct("percent_on_time");
  if (onTime !== null) out.push({ label: "Notes on time", value: `${Math.round(onTime)}%` });
  const counts: Array<[string, string]> = [
    ["note_count", "Notes"],
    ["phrase_count", "Phrases"],
    ["breath_count", "Breaths"],
    ["flagged_count", "Flagged"],
  ];
  for (const [key, label] of counts) {
    const n = pct(key);
    if (n !== null) out.push({ label, value: String(n) });
  }
  return out;
}

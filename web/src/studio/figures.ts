// Numbers as the studio shows them: dB, pan, loudness, times, and a track's analysis.
import type { Job, Json, Track } from "../doc/model";

const MINUS = "\u2212";

/** A signed number with a typographic minus: -14.2 -> "−14.2". */
export function signed(value: number, digits = 1, plus = false): string {
  const text = Math.abs(value).toFixed(digits);
  if (value < 0 && Number(text) !== 0) return MINUS + text;
  return (plus && value > 0 && Number(text) !== 0 ? "+" : "") + text;
}

export function formatDb(db: number): string {
  return db <= -60 ? `${MINUS}∞ dB` : `${signed(db, 1, true)} dB`;
}

/** Pan -1..1 as "L30", "C", "R50". */
export function formatPan(pan: number): string {
  const amount = Math.round(Math.abs(pan) * 100);
  if (amount === 0) return "C";
  return `${pan < 0 ? "L" : "R"}${amount}`;
}

/** Pan in words for screen readers. */
export function panText(pan: number): string {
  const amount = Math.round(Math.abs(pan) * 100);
  if (amount === 0) return "centre";
  return `${amount}% ${pan < 0 ? "left" : "right"}`;
}

/** Seconds as m:ss (or h:mm:ss). */
export function formatTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export const isRecord = (v: Json | undefined): v is { [key: string]: Json } => !!v && typeof v === "object" && !Array.isArray(v);
export const numberAt = (v: Json | undefined): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The newest analysis job of a track (by track id, else by its asset). */
export function analysisJobOf(jobs: Job[], track: Pick<Track, "id" | "assetId">): Job | null {
  // Jobs come newest first (readJobs).
  return (
    jobs.find(
      (job) =>
        job.kind === "analysis" &&
        (job.params.track_id === track.id || (track.assetId !== null && job.params.asset_id === track.assetId)),
    ) ?? null
  );
}

/** "92 BPM · A minor · −14.2 LUFS" from an analysis result (audio_services/analysis.py). */
export function analysisSummary(result: Record<string, Json> | null): string {
  if (!result) return "";
  const parts: string[] = [];
  const tempo = isRecord(result.tempo) ? numberAt(result.tempo.tempo_bpm) : null;
  if (tempo !== null && tempo > 0) parts.push(`${Math.round(tempo)} BPM`);
  const key = isRecord(result.key) && typeof result.key.name === "string" ? result.key.name : null;
  if (key) parts.push(key);
  const lufs = numberAt(result.integrated_lufs);
  parts.push(lufs === null ? "silent" : `${signed(lufs)} LUFS`);
  return parts.join(" · ");
}

/** Whether an analysis found clipping (for a warning next to the figures). */
export function analysisClipped(result: Record<string, Json> | null): boolean {
  return !!result && isRecord(result.clipping) && result.clipping.is_clipped === true;
}

// The server's diff summary (docs_model.restore.diff_summary) in words:
//   identical, meta {field: [old, new]}, tracks {added, removed: ids, changed: {id: fields}},
//   lyrics {chars_removed, chars_inserted, old_length, new_length}, lyrics_meta / mix: keys,
//   coaching {added, removed, changed: track ids}, comments {added, removed, changed: counts}.
// Unknown or malformed parts are skipped, never thrown on.

const rec = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : Array.isArray(v) ? v.length : 0);

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const META_NAMES: Record<string, string> = {
  title: "title",
  bpm: "tempo",
  key: "key",
  time_signature: "time signature",
  schema_version: "schema version",
};

const TRACK_FIELD_NAMES: Record<string, string> = {
  clips: "clips",
  effects: "effects",
  volume_db: "volume",
  pan: "pan",
  mute: "mute",
  solo: "solo",
  name: "name",
  kind: "kind",
  order: "position",
  asset_id: "audio",
};

function shown(v: unknown): string {
  if (v === null || v === undefined) return "none";
  if (typeof v === "string") return `“${v}”`;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "…";
}

/**
 * One line per kind of change, from the version to the document as it is now
 * (GET /versions/{id}) or from before a restore to after it (POST /restore).
 * `trackName` names tracks by id where the current document still has them.
 */
export function describeChanges(changes: unknown, trackName: (id: string) => string | null = () => null): string[] {
  const c = rec(changes);
  if (!c) return [];
  if (c.identical === true) return ["No differences."];
  const lines: string[] = [];

  const meta = rec(c.meta);
  if (meta) {
    for (const [field, pair] of Object.entries(meta)) {
      const [before, after] = list(pair);
      lines.push(`Song ${META_NAMES[field] ?? field}: ${shown(before)} → ${shown(after)}`);
    }
  }

  const tracks = rec(c.tracks);
  if (tracks) {
    const label = (id: unknown) => (typeof id === "string" ? (trackName(id) ?? "a track") : "a track");
    const added = list(tracks.added);
    const removed = list(tracks.removed);
    if (added.length) lines.push(`Tracks added: ${added.length} (${added.map(label).join(", ")})`);
    if (removed.length) lines.push(`Tracks removed: ${removed.length} (${removed.map(label).join(", ")})`);
    const changed = rec(tracks.changed);
    if (changed) {
      const entries = Object.entries(changed);
      if (entries.length) {
        const parts = entries.map(([id, fields]) => {
          const names = list(fields).filter((f): f is string => typeof f === "string").map((f) => TRACK_FIELD_NAMES[f] ?? f);
          return `${label(id)}${names.length ? ` (${names.join(", ")})` : ""}`;
        });
        lines.push(`Tracks changed: ${entries.length} — ${parts.join("; ")}`);
      }
    }
  }

  const lyrics = rec(c.lyrics);
  if (lyrics) {
    const removed = count(lyrics.chars_removed);
    const inserted = count(lyrics.chars_inserted);
    const parts = [inserted ? `${plural(inserted, "character")} added` : null, removed ? `${plural(removed, "character")} removed` : null].filter(Boolean);
    lines.push(`Lyrics changed${parts.length ? `: ${parts.join(", ")}` : ""}`);
  }

  const lyricsMeta = list(c.lyrics_meta);
  if (lyricsMeta.length) lines.push(`Lyrics notes changed (${lyricsMeta.filter((k) => typeof k === "string").join(", ")})`);
  const mix = list(c.mix);
  if (mix.length) lines.push(`Mix settings changed (${mix.filter((k) => typeof k === "string").join(", ")})`);

  const coaching = rec(c.coaching);
  if (coaching) {
    const n = count(coaching.added) + count(coaching.removed) + count(coaching.changed);
    if (n) lines.push(`Coaching changed on ${plural(n, "track")}`);
  }

  const comments = rec(c.comments);
  if (comments) {
    const parts = [
      count(comments.added) ? `${count(comments.added)} added` : null,
      count(comments.removed) ? `${count(comments.removed)} removed` : null,
      count(comments.changed) ? `${count(comments.changed)} changed` : null,
    ].filter(Boolean);
    if (parts.length) lines.push(`Comments: ${parts.join(", ")}`);
  }
  return lines.length ? lines : ["Small changes only."];
}

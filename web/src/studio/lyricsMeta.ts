// `lyrics_meta` is free-form JSON that lyrics bots write (sections, rhyme scheme,
// mood...). The editor shows what it can read of it, as label/value lines; the
// suggestions and the analysis have panels of their own and are left out here.
import type { Json } from "../doc/model";

export interface MetaLine {
  label: string;
  value: string;
}

const LABELS: Record<string, string> = {
  sections: "Sections",
  rhyme_scheme: "Rhyme scheme",
  syllables: "Syllables",
  theme: "Theme",
  mood: "Mood",
  language: "Language",
};
/** Keys shown elsewhere: the suggestions panel and the analysis beside the editor. */
const SHOWN_ELSEWHERE = new Set(["suggestions", "analysis"]);
const MAX_VALUE = 300;

function words(v: Json, depth = 0): string | null {
  if (v === null) return null;
  if (typeof v === "string") return v.trim() || null;
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : null;
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (depth > 2) return null;
  if (Array.isArray(v)) {
    const parts = v.map((item) => words(item, depth + 1)).filter((p): p is string => p !== null);
    return parts.length ? parts.join(depth === 0 ? " · " : ", ") : null;
  }
  // A section or suggestion object: its name/label/text first, then a line range.
  const name = ["name", "label", "title", "type", "text"].map((k) => v[k]).find((x) => typeof x === "string" && x.trim());
  const start = v.start_line ?? v.start;
  const end = v.end_line ?? v.end;
  const range = typeof start === "number" && typeof end === "number" ? ` (lines ${start}–${end})` : "";
  if (typeof name === "string") return `${name.trim()}${range}`;
  const parts = Object.entries(v)
    .map(([k, item]) => {
      const w = words(item, depth + 1);
      return w === null ? null : `${k}: ${w}`;
    })
    .filter(Boolean);
  return parts.length ? parts.join(", ") : null;
}

const labelOf = (key: string): string => LABELS[key] ?? key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/** Known fields first (sections, rhyme scheme...), then the rest by key. */
export function describeLyricsMeta(meta: Json): MetaLine[] {
  if (!meta || typeof meta !== "object" || Array.isArray(meta)) return [];
  const known = Object.keys(LABELS);
  const keys = Object.keys(meta).filter((k) => !SHOWN_ELSEWHERE.has(k)).sort((a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    return (ia < 0 ? known.length : ia) - (ib < 0 ? known.length : ib) || a.localeCompare(b);
  });
  const lines: MetaLine[] = [];
  for (const key of keys) {
    const value = words(meta[key]);
    if (value === null) continue;
    lines.push({ label: labelOf(key), value: value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE - 1)}…` : value });
  }
  return lines;
}

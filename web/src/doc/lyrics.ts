// `lyrics_meta.suggestions` and `lyrics_meta.analysis` read from the document. The
// server writes both, but any peer can write anything: an entry without the right
// shape is skipped, an optional field of the wrong type reads as its default, and
// lists are capped so junk cannot flood the page.
import * as Y from "yjs";
import { lyricsMetaOf, plain, type Json } from "./model";

export type LyricsSource = "offline" | "openai";
export type Verdict = "accepted" | "edited" | "rejected";
export type SuggestionKind = "suggestion" | "restyle";
export type RhymeKind = "perfect" | "slant" | "none";

export interface LyricsSuggestion {
  id: string;
  lines: string[];
  /** Syllables per line, aligned with `lines` (null where the entry gave none). */
  syllables: Array<number | null>;
  rhymeScheme: string;
  source: LyricsSource;
  theme: string | null;
  style: string | null;
  requestedBy: string;
  /** Epoch seconds. */
  createdAt: number;
  verdict: Verdict | null;
  kind: SuggestionKind;
}

export interface AnalysedLine {
  /** Index of the line in the lyrics text split on "\n". */
  lineNumber: number;
  /** The line as analysed (the server trims it). */
  text: string;
  syllables: number;
  stress: string;
  endWord: string;
  /** The line's letter in its section's rhyme scheme. */
  rhyme: string;
  rhymeKind: RhymeKind;
}

export interface AnalysedSection {
  label: string | null;
  rhymeScheme: string;
  lines: AnalysedLine[];
}

export interface LyricsAnalysis {
  sections: AnalysedSection[];
  /** Share (0..1) of lines that rhyme with another line of their section; null if absent. */
  rhymeDensity: number | null;
  /** `lines` index the lyric lines of all sections in order (blank lines not counted). */
  repeatedPhrases: Array<{ phrase: string; lines: number[] }>;
  cliches: Array<{ phrase: string; line: number }>;
  updatedAt: number | null;
}

/** Limits on what is shown of a peer's data. */
export const MAX_SUGGESTIONS = 50;
const MAX_SUGGESTION_LINES = 64;
const MAX_ANALYSED_LINES = 2000;
const MAX_LISTED = 100;
const MAX_TEXT = 1000;

const VERDICTS: Verdict[] = ["accepted", "edited", "rejected"];
const RHYME_KINDS: RhymeKind[] = ["perfect", "slant", "none"];

type Record_ = { [key: string]: Json };
const isRecord = (v: Json | undefined): v is Record_ => !!v && typeof v === "object" && !Array.isArray(v);
const finite = (v: Json | undefined): v is number => typeof v === "number" && Number.isFinite(v);
const count = (v: Json | undefined): v is number => finite(v) && Number.isInteger(v) && v >= 0;
const optText = (v: Json | undefined): string | null => (typeof v === "string" && v.length <= MAX_TEXT ? v : null);

/** One suggestion entry, or null when it lacks an id, its lines or a known source. */
export function parseSuggestion(raw: unknown): LyricsSuggestion | null {
  const v = plain(raw);
  if (!isRecord(v)) return null;
  const { id, lines, source, created_at: createdAt } = v;
  if (typeof id !== "string" || !id || id.length > 100) return null;
  if (!Array.isArray(lines) || lines.length === 0 || lines.length > MAX_SUGGESTION_LINES) return null;
  if (!lines.every((line): line is string => typeof line === "string" && line.length <= MAX_TEXT)) return null;
  if (source !== "offline" && source !== "openai") return null;
  if (!finite(createdAt)) return null;
  const syllables = Array.isArray(v.syllables) ? v.syllables : [];
  return {
    id,
    lines,
    syllables: lines.map((_, i) => (count(syllables[i]) ? syllables[i] : null)),
    rhymeScheme: typeof v.rhyme_scheme === "string" && /^[A-Z]{1,64}$/.test(v.rhyme_scheme) ? v.rhyme_scheme : "",
    source,
    theme: optText(v.theme),
    style: optText(v.style),
    requestedBy: typeof v.requested_by === "string" ? v.requested_by : "",
    createdAt,
    verdict: VERDICTS.includes(v.verdict as Verdict) ? (v.verdict as Verdict) : null,
    kind: v.kind === "restyle" ? "restyle" : "suggestion",
  };
}

/** The suggestions map (a Y.Map, or a plain object a peer wrote), newest first. */
export function parseSuggestions(raw: unknown): LyricsSuggestion[] {
  const asPlain = raw instanceof Y.Map ? null : plain(raw);
  const values: unknown[] = raw instanceof Y.Map ? Array.from(raw.values()) : isRecord(asPlain) ? Object.values(asPlain) : [];
  const seen = new Set<string>();
  const out: LyricsSuggestion[] = [];
  for (const value of values) {
    const suggestion = parseSuggestion(value);
    if (!suggestion || seen.has(suggestion.id)) continue;
    seen.add(suggestion.id);
    out.push(suggestion);
  }
  out.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
  return out.slice(0, MAX_SUGGESTIONS);
}

function parseLine(raw: Json): AnalysedLine | null {
  if (!isRecord(raw)) return null;
  const { line_number: lineNumber, text, syllables, rhyme } = raw;
  if (!count(lineNumber) || typeof text !== "string" || text.length > MAX_TEXT || !count(syllables)) return null;
  if (typeof rhyme !== "string" || !/^[A-Za-z]{1,2}$/.test(rhyme)) return null;
  return {
    lineNumber,
    text,
    syllables,
    stress: typeof raw.stress === "string" && /^[01]{0,200}$/.test(raw.stress) ? raw.stress : "",
    endWord: optText(raw.end_word) ?? "",
    rhyme,
    rhymeKind: RHYME_KINDS.includes(raw.rhyme_kind as RhymeKind) ? (raw.rhyme_kind as RhymeKind) : "none",
  };
}

/** The analysis value, or null when it has no list of sections. */
export function parseAnalysis(raw: unknown): LyricsAnalysis | null {
  const v = plain(raw);
  if (!isRecord(v) || !Array.isArray(v.sections)) return null;
  const sections: AnalysedSection[] = [];
  let budget = MAX_ANALYSED_LINES;
  for (const item of v.sections) {
    if (!isRecord(item) || !Array.isArray(item.lines) || budget <= 0) continue;
    const lines = item.lines
      .slice(0, budget)
      .map(parseLine)
      .filter((line): line is AnalysedLine => line !== null);
    budget -= lines.length;
    if (!lines.length) continue;
    const scheme = typeof item.rhyme_scheme === "string" && item.rhyme_scheme.length <= 200 ? item.rhyme_scheme : lines.map((l) => l.rhyme).join("");
    sections.push({ label: optText(item.label), rhymeScheme: scheme, lines });
  }
  const density = v.rhyme_density;
  const repeated = Array.isArray(v.repeated_phrases) ? v.repeated_phrases : [];
  const cliches = Array.isArray(v.cliches) ? v.cliches : [];
  return {
    sections,
    rhymeDensity: finite(density) && density >= 0 && density <= 1 ? density : null,
    repeatedPhrases: repeated
      .filter(isRecord)
      .filter((r) => typeof r.phrase === "string" && r.phrase.length <= MAX_TEXT && Array.isArray(r.lines))
      .slice(0, MAX_LISTED)
      .map((r) => ({ phrase: r.phrase as string, lines: (r.lines as Json[]).filter(count).slice(0, MAX_LISTED) })),
    cliches: cliches
      .filter(isRecord)
      .filter((c) => typeof c.phrase === "string" && c.phrase.length <= MAX_TEXT && count(c.line))
      .slice(0, MAX_LISTED)
      .map((c) => ({ phrase: c.phrase as string, line: c.line as number })),
    updatedAt: finite(v.updated_at) ? v.updated_at : null,
  };
}

export const readLyricsSuggestions = (doc: Y.Doc): LyricsSuggestion[] => parseSuggestions(lyricsMetaOf(doc).get("suggestions"));
export const readLyricsAnalysis = (doc: Y.Doc): LyricsAnalysis | null => parseAnalysis(lyricsMetaOf(doc).get("analysis"));

/** The user id in a `requested_by` actor ("user:<id>"; a bare id from older entries), else null. */
export function actorUserId(actor: string): string | null {
  const match = /^(?:user:)?([0-9a-f]{32})$/.exec(actor);
  return match ? match[1] : null;
}

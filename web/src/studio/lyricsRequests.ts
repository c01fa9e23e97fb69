// The lyrics panel's requests, checked before they are sent (POST /api/v1/ai/lyrics,
// /ai/lyrics/restyle and /ai/lyrics/feedback), and where accepted lines go.
import type { Verdict } from "../doc/lyrics";

export const RHYME_SCHEMES = ["AABB", "ABAB", "ABCB", "AAAA"] as const;
/** Styles the server knows by name; any other text is sent as written. */
export const STYLES = ["country", "hip hop", "gospel", "gothic", "pop", "folk", "blues", "punk"] as const;
/** The restyle choice that asks for the writer's own style (their AI memory). */
export const MY_STYLE = "my style";
export const MAX_LINES = 32;
export const MAX_SYLLABLES = 24;
const MAX_THEME = 500;
const MAX_STYLE = 100;
const MAX_RESTYLE_TEXT = 4000;

export interface SuggestForm {
  theme: string;
  /** A rhyme scheme such as "ABAB" (spaces and case are forgiven). */
  scheme: string;
  /** Blank: one line per scheme letter. */
  lines: string;
  /** Blank, one number for every line, or one per line ("8, 6, 8, 6"). */
  syllables: string;
  style: string;
  /** A coached track whose phrases set the syllables ("" for none). */
  fitTrackId: string;
  seed: number;
}

export interface SuggestBody {
  project_id: string;
  theme: string;
  rhyme_scheme: string;
  lines?: number;
  syllables?: number | number[];
  style?: string;
  fit_to_track?: string;
  seed: number;
}

export interface RestyleBody {
  project_id: string;
  text: string;
  style?: string;
  my_style?: boolean;
}

export interface FeedbackBody {
  project_id: string;
  suggestion_id: string;
  verdict: Verdict;
  text?: string;
}

export type Checked<T> = { ok: true; body: T } | { ok: false; field: string; error: string };

const whole = (text: string): number | null => (/^\s*\d{1,3}\s*$/.test(text) ? Number(text) : null);

/** The scheme as the server wants it (capital letters only), or null. */
export function normaliseScheme(text: string): string | null {
  const scheme = text.replace(/\s+/g, "").toUpperCase();
  return new RegExp(`^[A-Z]{1,${MAX_LINES}}$`).test(scheme) ? scheme : null;
}

export function buildSuggestRequest(projectId: string, form: SuggestForm): Checked<SuggestBody> {
  const theme = form.theme.trim();
  if (!theme) return { ok: false, field: "theme", error: "Say what the lines are about." };
  if (theme.length > MAX_THEME) return { ok: false, field: "theme", error: `The theme is at most ${MAX_THEME} characters.` };
  const scheme = normaliseScheme(form.scheme);
  if (!scheme) return { ok: false, field: "scheme", error: `A rhyme scheme is 1 to ${MAX_LINES} letters, such as ABAB.` };
  const body: SuggestBody = { project_id: projectId, theme, rhyme_scheme: scheme, seed: form.seed };

  let lineCount = scheme.length;
  if (form.lines.trim()) {
    const lines = whole(form.lines);
    if (lines === null || lines < 1 || lines > MAX_LINES) return { ok: false, field: "lines", error: `Lines: a whole number from 1 to ${MAX_LINES}.` };
    body.lines = lines;
    lineCount = lines;
  }

  if (form.fitTrackId) {
    // The sung phrases set the syllables: a typed count would contradict them.
    body.fit_to_track = form.fitTrackId;
  } else if (form.syllables.trim()) {
    const parts = form.syllables.split(/[\s,;/]+/).filter(Boolean);
    const counts = parts.map(whole);
    if (counts.some((c) => c === null || c < 1 || c > MAX_SYLLABLES)) {
      return { ok: false, field: "syllables", error: `Syllables: whole numbers from 1 to ${MAX_SYLLABLES}, separated by commas.` };
    }
    if (counts.length !== 1 && counts.length !== lineCount) {
      return { ok: false, field: "syllables", error: `Give one syllable count, or one per line (${lineCount}).` };
    }
    body.syllables = counts.length === 1 ? (counts[0] as number) : (counts as number[]);
  }

  const style = form.style.trim();
  if (style.length > MAX_STYLE) return { ok: false, field: "style", error: `The style is at most ${MAX_STYLE} characters.` };
  if (style) body.style = style;
  return { ok: true, body };
}

/** A rewrite of `text` toward `style` (a named style, MY_STYLE, or blank for the server's choice). */
export function buildRestyleRequest(projectId: string, text: string, style: string): Checked<RestyleBody> {
  const lyrics = text.trim();
  if (!lyrics) return { ok: false, field: "text", error: "Write or select some lyrics to rewrite first." };
  if (lyrics.length > MAX_RESTYLE_TEXT) {
    return { ok: false, field: "text", error: `Select at most ${MAX_RESTYLE_TEXT} characters to rewrite.` };
  }
  const wanted = style.trim();
  if (wanted.length > MAX_STYLE) return { ok: false, field: "style", error: `The style is at most ${MAX_STYLE} characters.` };
  if (wanted === MY_STYLE) return { ok: true, body: { project_id: projectId, text: lyrics, my_style: true } };
  return { ok: true, body: { project_id: projectId, text: lyrics, ...(wanted ? { style: wanted } : {}) } };
}

export function buildFeedback(projectId: string, suggestionId: string, verdict: Verdict, text?: string): FeedbackBody {
  return { project_id: projectId, suggestion_id: suggestionId, verdict, ...(text !== undefined ? { text } : {}) };
}

/**
 * Where accepted `lines` go in `doc` and the text to insert: after the line holding
 * `cursor` (a position in `doc`), or after the last line when there is no cursor,
 * on lines of their own.
 */
export function insertionFor(doc: string, cursor: number | null, lines: string[]): { from: number; insert: string } {
  const block = lines.join("\n");
  if (cursor === null || cursor < 0 || cursor > doc.length) {
    if (!doc) return { from: 0, insert: block };
    return { from: doc.length, insert: doc.endsWith("\n") ? block : `\n${block}` };
  }
  const lineStart = cursor === 0 ? 0 : doc.lastIndexOf("\n", cursor - 1) + 1;
  const newline = doc.indexOf("\n", cursor);
  const lineEnd = newline < 0 ? doc.length : newline;
  // An empty line takes the lines itself; otherwise they start on the next line.
  if (lineStart === lineEnd) return { from: lineEnd, insert: block };
  return { from: lineEnd, insert: `\n${block}` };
}

// The server's analysis of the lyrics, fitted to the text as it is now. The analysis
// is written about a second after people stop typing, so it may describe an older
// text: a line's figures count only while that line still reads as it was analysed.
import type { AnalysedLine, LyricsAnalysis } from "../doc/lyrics";

/**
 * The analysed lines that still match the text: `lineText(n)` is the editor's line
 * `n` (0-based) or null past the end. The server trims lines before analysing them.
 */
export function currentLines(analysis: LyricsAnalysis | null, lineText: (lineNumber: number) => string | null): AnalysedLine[] {
  if (!analysis) return [];
  const out: AnalysedLine[] = [];
  const taken = new Set<number>();
  for (const section of analysis.sections) {
    for (const line of section.lines) {
      if (taken.has(line.lineNumber)) continue;
      const text = lineText(line.lineNumber);
      if (text === null || text.trim() !== line.text.trim() || !text.trim()) continue;
      taken.add(line.lineNumber);
      out.push(line);
    }
  }
  return out.sort((a, b) => a.lineNumber - b.lineNumber);
}

/** `currentLines` against the text itself. */
export function currentLinesOf(analysis: LyricsAnalysis | null, text: string): AnalysedLine[] {
  const lines = text.split("\n");
  return currentLines(analysis, (n) => (n < lines.length ? lines[n] : null));
}

const RHYME_WORDS: Record<AnalysedLine["rhymeKind"], string> = { perfect: ", perfect rhyme", slant: ", slant rhyme", none: "" };

/** What a line's figures say, for screen readers: "Rhyme A, slant rhyme, 7 syllables". */
export function lineFigureLabel(line: Pick<AnalysedLine, "rhyme" | "rhymeKind" | "syllables">): string {
  const syllables = `${line.syllables} ${line.syllables === 1 ? "syllable" : "syllables"}`;
  return `Rhyme ${line.rhyme}${RHYME_WORDS[line.rhymeKind]}, ${syllables}`;
}

export interface AnalysisSummary {
  sections: Array<{ label: string; scheme: string }>;
  /** Rhyme density in whole percent, or null when the analysis has none. */
  densityPercent: number | null;
  /** Line numbers here count from 1, as people do. */
  cliches: Array<{ phrase: string; line: number | null }>;
  repeated: Array<{ phrase: string; lines: number[] }>;
  /** False while some analysed line no longer matches the text (the analysis lags). */
  current: boolean;
}

/** The compact summary under the editor, or null with nothing analysed. */
export function summariseAnalysis(analysis: LyricsAnalysis | null, text: string): AnalysisSummary | null {
  if (!analysis || !analysis.sections.length) return null;
  const analysed = analysis.sections.flatMap((s) => s.lines);
  // Clichés and repeats index the lyric lines in order, blank lines not counted.
  const lineNumberOf = (index: number): number | null => (index < analysed.length ? analysed[index].lineNumber + 1 : null);
  const matching = currentLinesOf(analysis, text).length;
  return {
    sections: analysis.sections.map((s, i) => ({ label: s.label ?? `Stanza ${i + 1}`, scheme: s.rhymeScheme })),
    densityPercent: analysis.rhymeDensity === null ? null : Math.round(analysis.rhymeDensity * 100),
    cliches: analysis.cliches.map((c) => ({ phrase: c.phrase, line: lineNumberOf(c.line) })),
    repeated: analysis.repeatedPhrases.map((r) => ({
      phrase: r.phrase,
      lines: r.lines.map(lineNumberOf).filter((n): n is number => n !== null),
    })),
    current: matching === analysed.length,
  };
}

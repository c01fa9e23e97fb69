import { describe, expect, it } from "vitest";
import { EditorState } from "@codemirror/state";
import { parseAnalysis } from "../doc/lyrics";
import { currentLinesOf, lineFigureLabel, summariseAnalysis } from "./lyricsAnalysis";
import { lyricsFigureDecorations, lyricsFigures, setLyricsAnalysis } from "./lyricsFigures";

const line = (lineNumber: number, text: string, rhyme: string, syllables = 4, rhymeKind = "none") => ({
  line_number: lineNumber,
  text,
  syllables,
  stress: "",
  end_word: "",
  rhyme,
  rhyme_kind: rhymeKind,
});

const TEXT = "[Verse]\nI drove all night\n  into the light  \n\nbroken heart again\nbroken heart again";
const analysis = parseAnalysis({
  sections: [
    { label: "Verse", rhyme_scheme: "AA", lines: [line(1, "I drove all night", "A"), line(2, "into the light", "A", 4, "perfect")] },
    { label: null, rhyme_scheme: "AA", lines: [line(4, "broken heart again", "A", 5), line(5, "broken heart again", "A", 5, "perfect")] },
  ],
  rhyme_density: 0.75,
  repeated_phrases: [{ phrase: "broken heart again", lines: [2, 3] }],
  cliches: [{ phrase: "broken heart", line: 2 }, { phrase: "broken heart", line: 9 }],
});

describe("currentLinesOf", () => {
  it("keeps the lines that read as analysed (the server trims them)", () => {
    expect(currentLinesOf(analysis, TEXT).map((l) => l.lineNumber)).toEqual([1, 2, 4, 5]);
  });

  it("drops a line edited since, and lines past the end", () => {
    const edited = TEXT.replace("into the light", "into the dark");
    expect(currentLinesOf(analysis, edited).map((l) => l.lineNumber)).toEqual([1, 4, 5]);
    expect(currentLinesOf(analysis, "[Verse]\nI drove all night").map((l) => l.lineNumber)).toEqual([1]);
    // A line moved down by an insertion no longer sits at its number.
    expect(currentLinesOf(analysis, `new first line\n${TEXT}`).map((l) => l.lineNumber)).toEqual([5]);
    expect(currentLinesOf(null, TEXT)).toEqual([]);
  });
});

describe("lineFigureLabel", () => {
  it("says the letter, how it rhymes and the syllables", () => {
    expect(lineFigureLabel({ rhyme: "A", rhymeKind: "none", syllables: 4 })).toBe("Rhyme A, 4 syllables");
    expect(lineFigureLabel({ rhyme: "B", rhymeKind: "slant", syllables: 1 })).toBe("Rhyme B, slant rhyme, 1 syllable");
    expect(lineFigureLabel({ rhyme: "A", rhymeKind: "perfect", syllables: 7 })).toBe("Rhyme A, perfect rhyme, 7 syllables");
  });
});

describe("summariseAnalysis", () => {
  it("gives schemes per section, density and clichés on 1-based text lines", () => {
    expect(summariseAnalysis(analysis, TEXT)).toEqual({
      sections: [
        { label: "Verse", scheme: "AA" },
        { label: "Stanza 2", scheme: "AA" },
      ],
      densityPercent: 75,
      cliches: [
        { phrase: "broken heart", line: 5 },
        { phrase: "broken heart", line: null },
      ],
      repeated: [{ phrase: "broken heart again", lines: [5, 6] }],
      current: true,
    });
  });

  it("says when the analysis lags the text, and is null with nothing analysed", () => {
    expect(summariseAnalysis(analysis, "something else")?.current).toBe(false);
    expect(summariseAnalysis(null, TEXT)).toBeNull();
    expect(summariseAnalysis(parseAnalysis({ sections: [] }), TEXT)).toBeNull();
  });
});

describe("lyricsFigures", () => {
  const positions = (state: EditorState) => {
    const out: number[] = [];
    lyricsFigureDecorations(state).between(0, state.doc.length, (from) => {
      out.push(from);
    });
    return out;
  };

  it("puts a figure at the end of each matching line and drops it when the line changes", () => {
    let state = EditorState.create({ doc: TEXT, extensions: [lyricsFigures] });
    expect(positions(state)).toEqual([]);
    state = state.update({ effects: setLyricsAnalysis.of(analysis) }).state;
    const ends = [2, 3, 5, 6].map((n) => state.doc.line(n).to);
    expect(positions(state)).toEqual(ends);
    const at = state.doc.line(3).from;
    state = state.update({ changes: { from: at, insert: "x" } }).state;
    expect(positions(state)).toEqual([state.doc.line(2).to, state.doc.line(5).to, state.doc.line(6).to]);
    state = state.update({ effects: setLyricsAnalysis.of(null) }).state;
    expect(positions(state)).toEqual([]);
  });
});

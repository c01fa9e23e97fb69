// The analysis inside the lyrics editor: each analysed line ends with its rhyme letter
// and syllable count ("A · 8"), coloured by how it rhymes. Figures are rebuilt on every
// edit, so a line changed since the analysis loses them at once (currentLines).
import { StateEffect, StateField, type EditorState, type Extension, type Text } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";
import type { AnalysedLine, LyricsAnalysis } from "../doc/lyrics";
import { currentLines, lineFigureLabel } from "./lyricsAnalysis";

/** Give the editor the newest analysis (null: none). */
export const setLyricsAnalysis = StateEffect.define<LyricsAnalysis | null>();

class LineFigureWidget extends WidgetType {
  constructor(readonly line: AnalysedLine) {
    super();
  }

  eq(other: LineFigureWidget): boolean {
    const a = this.line;
    const b = other.line;
    return a.rhyme === b.rhyme && a.rhymeKind === b.rhymeKind && a.syllables === b.syllables;
  }

  toDOM(): HTMLElement {
    const figure = document.createElement("span");
    figure.className = `cm-lyrics-figure cm-lyrics-rhyme-${this.line.rhymeKind}`;
    // One text alternative for the pair; the glyphs themselves are decoration.
    figure.setAttribute("role", "img");
    figure.setAttribute("aria-label", lineFigureLabel(this.line));
    figure.title = lineFigureLabel(this.line);
    const letter = document.createElement("span");
    letter.className = "cm-lyrics-letter";
    letter.textContent = this.line.rhyme;
    const syllables = document.createElement("span");
    syllables.className = "cm-lyrics-syllables";
    syllables.textContent = String(this.line.syllables);
    figure.append(letter, syllables);
    return figure;
  }

  ignoreEvent(): boolean {
    return false;
  }
}

function figuresFor(doc: Text, analysis: LyricsAnalysis | null): DecorationSet {
  const lineText = (n: number) => (n < doc.lines ? doc.line(n + 1).text : null);
  const lines = currentLines(analysis, lineText);
  return Decoration.set(
    lines.map((line) => Decoration.widget({ widget: new LineFigureWidget(line), side: 1 }).range(doc.line(line.lineNumber + 1).to)),
  );
}

interface FigureState {
  analysis: LyricsAnalysis | null;
  decorations: DecorationSet;
}

const figureField = StateField.define<FigureState>({
  create: () => ({ analysis: null, decorations: Decoration.none }),
  update(value, tr) {
    let analysis = value.analysis;
    for (const effect of tr.effects) if (effect.is(setLyricsAnalysis)) analysis = effect.value;
    if (analysis === value.analysis && !tr.docChanged) return value;
    return { analysis, decorations: figuresFor(tr.state.doc, analysis) };
  },
  provide: (field) => EditorView.decorations.from(field, (value) => value.decorations),
});

const figureTheme = EditorView.baseTheme({
  ".cm-lyrics-figure": {
    display: "inline-flex",
    gap: "0.3em",
    marginLeft: "0.75em",
    padding: "0 0.4em",
    borderRadius: "4px",
    fontSize: "0.75rem",
    lineHeight: "1.4",
    fontVariantNumeric: "tabular-nums",
    verticalAlign: "middle",
    userSelect: "none",
    border: "1px solid var(--line)",
    color: "var(--muted)",
  },
  ".cm-lyrics-letter": { fontWeight: "700" },
  ".cm-lyrics-rhyme-perfect .cm-lyrics-letter": { color: "var(--ok)" },
  ".cm-lyrics-rhyme-slant .cm-lyrics-letter": { color: "var(--accent)" },
});

/** The figures shown now (for tests and tools): widgets at the ends of matching lines. */
export function lyricsFigureDecorations(state: EditorState): DecorationSet {
  return state.field(figureField, false)?.decorations ?? Decoration.none;
}

/** The field and its look; feed it with `setLyricsAnalysis`. */
export const lyricsFigures: Extension = [figureField, figureTheme];

// The collaborative lyrics: CodeMirror 6 bound to the document's `lyrics` Y.Text.
// Other writers' cursors and selections show with their names and colours
// (awareness `user`); Ctrl+Z undoes only this tab's edits (a Y.UndoManager scoped
// to the text). The server's analysis shows at line ends (rhyme letter, syllables)
// and in a summary below; suggestions and rewrites sit beside the editor. Loaded
// lazily: CodeMirror is the studio's biggest dependency, so the setup is composed by
// hand (no basicSetup: no language, search or autocomplete).
import { useEffect, useMemo, useRef, useState } from "react";
import * as Y from "yjs";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { drawSelection, EditorView, highlightSpecialChars, keymap, placeholder } from "@codemirror/view";
import { lyricsKeymap } from "./lyricsKeys";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { useLyricsAnalysis, useRootSnapshot } from "../doc/hooks";
import { lyricsMetaOf, lyricsOf, plain } from "../doc/model";
import { useStudio } from "./context";
import { AnalysisSummary } from "./LyricsAnalysisSummary";
import { lyricsFigures, setLyricsAnalysis } from "./lyricsFigures";
import { describeLyricsMeta, type MetaLine } from "./lyricsMeta";
import { LyricsPanel } from "./LyricsPanel";
import { insertionFor } from "./lyricsRequests";
import type { LyricsTarget } from "./LyricsSuggestions";
import "./lyrics.css";

const readLyricsMeta = (doc: Y.Doc) => describeLyricsMeta(plain(lyricsMetaOf(doc)));

function access(canEdit: boolean): Extension {
  return [
    placeholder(canEdit ? "Write the lyrics here…" : "No lyrics yet."),
    EditorState.readOnly.of(!canEdit),
    EditorView.editable.of(canEdit),
    EditorView.contentAttributes.of({
      "aria-label": "Lyrics",
      "aria-readonly": canEdit ? "false" : "true",
      // Read-only content stays reachable from the keyboard, so it can be read.
      ...(canEdit ? {} : { tabindex: "0" }),
    }),
  ];
}

const theme = EditorView.theme(
  {
    "&": { backgroundColor: "var(--bg)", color: "var(--text)", border: "1px solid var(--line)", borderRadius: "6px", fontSize: "1rem" },
    "&.cm-focused": { outline: "2px solid var(--focus)", outlineOffset: "2px" },
    ".cm-scroller": { fontFamily: "inherit" },
    ".cm-content": { lineHeight: "1.6", padding: "0.5rem 0", minHeight: "12rem", caretColor: "var(--text)" },
    ".cm-line": { padding: "0 0.75rem" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)" },
    "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": { backgroundColor: "#8ab4ff44" },
    ".cm-placeholder": { color: "var(--muted)" },
    ".cm-ySelectionInfo": { fontFamily: "inherit", fontSize: "0.75rem", fontWeight: "600", color: "#111", opacity: "1", padding: "1px 4px" },
  },
  { dark: true },
);

export default function LyricsEditor() {
  const { doc, awareness, canEdit } = useStudio();
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const accessCompartment = useMemo(() => new Compartment(), []);
  const metaLines = useRootSnapshot(doc, lyricsMetaOf(doc) as Y.AbstractType<unknown>, readLyricsMeta);
  const analysis = useLyricsAnalysis(doc);
  const analysisNow = useRef(analysis);
  analysisNow.current = analysis;
  // Accepted lines go after the cursor's line once the writer has put the cursor in
  // the lyrics; before that, after the last line.
  const cursorPlaced = useRef(false);
  const [hasSelection, setHasSelection] = useState(false);

  const target = useMemo<LyricsTarget>(
    () => ({
      insertLines(lines) {
        const editor = view.current;
        if (!editor || editor.state.readOnly) return false;
        const cursor = cursorPlaced.current ? editor.state.selection.main.head : null;
        const { from, insert } = insertionFor(editor.state.doc.toString(), cursor, lines);
        // A change of this view, as typing is: yCollab writes it with this tab's
        // origin, so it is this writer's edit and Ctrl+Z undoes it.
        editor.dispatch({
          changes: { from, insert },
          selection: { anchor: from + insert.length },
          userEvent: "input.paste",
          scrollIntoView: true,
        });
        return true;
      },
      textToRewrite() {
        const state = view.current?.state;
        if (!state) return lyricsOf(doc).toString();
        const range = state.selection.main;
        return range.empty ? state.doc.toString() : state.sliceDoc(range.from, range.to);
      },
    }),
    [doc],
  );

  useEffect(() => {
    const ytext = lyricsOf(doc);
    // Only this tab's edits (the sync plugin's origin, added by yCollab) are undone.
    const undoManager = new Y.UndoManager(ytext);
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: ytext.toString(),
        extensions: [
          highlightSpecialChars(),
          drawSelection(),
          EditorView.lineWrapping,
          keymap.of([...yUndoManagerKeymap, ...lyricsKeymap]),
          yCollab(ytext, awareness, { undoManager }),
          accessCompartment.of(access(canEdit)),
          lyricsFigures,
          EditorView.updateListener.of((update) => {
            if ((update.selectionSet || update.focusChanged) && update.view.hasFocus) cursorPlaced.current = true;
            if (update.selectionSet) setHasSelection(!update.state.selection.main.empty);
          }),
          theme,
        ],
      }),
    });
    view.current = editor;
    editor.dispatch({ effects: setLyricsAnalysis.of(analysisNow.current) });
    return () => {
      view.current = null;
      editor.destroy();
      undoManager.destroy();
      // Leaving the tab: the others no longer see a cursor here.
      if (awareness.getLocalState()?.cursor) awareness.setLocalStateField("cursor", null);
    };
    // canEdit is applied through the compartment below, without rebuilding the editor.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [doc, awareness, accessCompartment]);

  useEffect(() => {
    view.current?.dispatch({ effects: accessCompartment.reconfigure(access(canEdit)) });
  }, [canEdit, accessCompartment]);

  useEffect(() => {
    view.current?.dispatch({ effects: setLyricsAnalysis.of(analysis) });
  }, [analysis]);

  return (
    <div className="lyrics-tab">
      <div className="lyrics-columns">
        <div className="lyrics">
          <h2 className="lyrics-title" id="lyrics-heading">
            Lyrics
          </h2>
          {!canEdit && <p className="muted lyrics-note">Read only: viewers can read the lyrics but not change them.</p>}
          <div ref={host} className="lyrics-editor" />
          <AnalysisSummary analysis={analysis} />
          <MetaNotes lines={metaLines} />
        </div>
        <LyricsPanel target={target} hasSelection={hasSelection} />
      </div>
    </div>
  );
}

/** Whatever else lyrics bots keep in `lyrics_meta`, as label/value lines. */
function MetaNotes({ lines }: { lines: MetaLine[] }) {
  if (!lines.length) return null;
  return (
    <section className="lyrics-meta" aria-labelledby="lyrics-meta-heading">
      <h3 id="lyrics-meta-heading">Lyrics notes</h3>
      <dl>
        {lines.map((line) => (
          <div key={line.label}>
            <dt>{line.label}</dt>
            <dd>{line.value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

// The lyrics editor's keys: cursor motion, selection, Enter and select-all for plain
// text, written against @codemirror/view alone. (@codemirror/commands would pull in
// lezer's syntax tree, ~10 KB gzipped that lyrics have no use for.) Backspace, Delete
// and word deletion are the browser's own editing, which CodeMirror reads back; Tab is
// left to the browser so it moves focus out of the editor.
import { EditorSelection, type SelectionRange } from "@codemirror/state";
import { Direction, type Command, type EditorView, type KeyBinding } from "@codemirror/view";

type Motion = (view: EditorView, range: SelectionRange, forward: boolean) => SelectionRange;

const byChar: Motion = (view, range, forward) => view.moveByChar(range, forward);
const byGroup: Motion = (view, range, forward) => view.moveByGroup(range, forward);
const byLine: Motion = (view, range, forward) => view.moveVertically(range, forward);
const byPage: Motion = (view, range, forward) =>
  view.moveVertically(range, forward, Math.max(view.defaultLineHeight, view.scrollDOM.clientHeight - view.defaultLineHeight));
const byLineBoundary: Motion = (view, range, forward) => view.moveToLineBoundary(range, forward);
const byDoc: Motion = (view, _range, forward) => EditorSelection.cursor(forward ? view.state.doc.length : 0);

/** `visual`: left/right follow the text's direction at the cursor (for right-to-left lyrics). */
function motion(how: Motion, forward: boolean, extend: boolean, visual = false): Command {
  return (view) => {
    const ranges = view.state.selection.ranges.map((range) => {
      const fwd = visual && view.textDirectionAt(range.head) === Direction.RTL ? !forward : forward;
      // A selection collapses to its edge on a plain character move, as in text fields.
      if (!extend && !range.empty && how === byChar) return EditorSelection.cursor(fwd ? range.to : range.from);
      const moved = how(view, range, fwd);
      return extend ? EditorSelection.range(range.anchor, moved.head, moved.goalColumn) : moved;
    });
    const selection = EditorSelection.create(ranges, view.state.selection.mainIndex);
    if (selection.eq(view.state.selection)) return false;
    view.dispatch({ selection, scrollIntoView: true, userEvent: extend ? "select" : "select.pointer" });
    return true;
  };
}

const insertNewline: Command = (view) => {
  if (view.state.readOnly) return false;
  view.dispatch(view.state.replaceSelection("\n"), { scrollIntoView: true, userEvent: "input" });
  return true;
};

const selectAll: Command = (view) => {
  view.dispatch({ selection: EditorSelection.single(0, view.state.doc.length), userEvent: "select" });
  return true;
};

function pair(key: string, how: Motion, forward: boolean, visual = false, mac?: string): KeyBinding {
  return { key, mac, run: motion(how, forward, false, visual), shift: motion(how, forward, true, visual), preventDefault: true };
}

export const lyricsKeymap: KeyBinding[] = [
  pair("ArrowLeft", byChar, false, true),
  pair("ArrowRight", byChar, true, true),
  pair("Mod-ArrowLeft", byGroup, false, true, "Alt-ArrowLeft"),
  pair("Mod-ArrowRight", byGroup, true, true, "Alt-ArrowRight"),
  pair("ArrowUp", byLine, false),
  pair("ArrowDown", byLine, true),
  pair("Home", byLineBoundary, false),
  pair("End", byLineBoundary, true),
  pair("Mod-Home", byDoc, false, false, "Cmd-ArrowUp"),
  pair("Mod-End", byDoc, true, false, "Cmd-ArrowDown"),
  pair("PageUp", byPage, false),
  pair("PageDown", byPage, true),
  { key: "Enter", run: insertNewline },
  { key: "Mod-a", run: selectAll },
];

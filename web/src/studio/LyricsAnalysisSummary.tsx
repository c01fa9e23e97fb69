// Under the editor: each section's rhyme scheme, the rhyme density, clichés and
// repeated phrases, from the server's analysis. Plain text in a labelled section, so
// a screen reader reads it like the rest of the page (no live region: it changes
// every time people pause typing).
import { useMemo } from "react";
import type * as Y from "yjs";
import { useRootSnapshot } from "../doc/hooks";
import type { LyricsAnalysis } from "../doc/lyrics";
import { lyricsOf } from "../doc/model";
import { useStudio } from "./context";
import { summariseAnalysis } from "./lyricsAnalysis";

const readLyricsText = (doc: Y.Doc) => lyricsOf(doc).toString();
const MAX_SHOWN = 12;

/** "ABAB" shown as is, read letter by letter. */
function Scheme({ scheme }: { scheme: string }) {
  return (
    <>
      <span aria-hidden="true" className="lyrics-scheme">
        {scheme}
      </span>
      <span className="sr-only">{scheme.split("").join(" ")}</span>
    </>
  );
}

export function AnalysisSummary({ analysis }: { analysis: LyricsAnalysis | null }) {
  const { doc } = useStudio();
  const text = useRootSnapshot(doc, lyricsOf(doc) as Y.AbstractType<unknown>, readLyricsText);
  const summary = useMemo(() => summariseAnalysis(analysis, text), [analysis, text]);
  if (!summary) return null;
  return (
    <section className="lyrics-analysis" aria-labelledby="lyrics-analysis-heading">
      <h3 id="lyrics-analysis-heading">
        Analysis
        {!summary.current && <span className="muted lyrics-analysis-lag"> (catching up with the latest edits)</span>}
      </h3>
      <dl>
        <div>
          <dt>Rhyme scheme</dt>
          <dd>
            <ul className="lyrics-sections">
              {summary.sections.slice(0, MAX_SHOWN).map((s, i) => (
                <li key={i}>
                  {s.label}: <Scheme scheme={s.scheme} />
                </li>
              ))}
            </ul>
          </dd>
        </div>
        {summary.densityPercent !== null && (
          <div>
            <dt>Rhyme density</dt>
            <dd>{summary.densityPercent} %</dd>
          </div>
        )}
        <div>
          <dt>Clichés</dt>
          <dd>
            {summary.cliches.length === 0
              ? "None found"
              : summary.cliches
                  .slice(0, MAX_SHOWN)
                  .map((c) => `“${c.phrase}”${c.line !== null ? ` (line ${c.line})` : ""}`)
                  .join(", ")}
          </dd>
        </div>
        {summary.repeated.length > 0 && (
          <div>
            <dt>Repeated</dt>
            <dd>
              {summary.repeated
                .slice(0, MAX_SHOWN)
                .map((r) => `“${r.phrase}”${r.lines.length ? ` (lines ${r.lines.join(", ")})` : ""}`)
                .join(", ")}
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

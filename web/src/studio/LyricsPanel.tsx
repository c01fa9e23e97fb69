// Beside the lyrics: ask for new lines (theme, rhyme scheme, line and syllable counts,
// style, or the syllables of a coached vocal's phrases), rewrite the selection in a
// style, and the suggestions every peer sees. Editors ask; viewers read.
import { useId, useState, type FormEvent } from "react";
import type { LyricsOut } from "../api/types";
import { useCoaching, useTracks } from "../doc/hooks";
import { useStudio } from "./context";
import { errorText, SuggestionList, type LyricsTarget } from "./LyricsSuggestions";
import {
  buildRestyleRequest,
  buildSuggestRequest,
  MAX_LINES,
  MY_STYLE,
  normaliseScheme,
  RHYME_SCHEMES,
  STYLES,
  type SuggestForm as SuggestFields,
} from "./lyricsRequests";
import "./lyricsPanel.css";

type Outcome = { kind: "ok"; text: string; notes: string[] } | { kind: "error"; field: string | null; text: string } | null;

const OTHER = "other";

function OutcomeLine({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  if (outcome.kind === "error") {
    return (
      <p className="error" role="alert">
        {outcome.text}
      </p>
    );
  }
  return (
    <div role="status" className="lp-outcome">
      <p className="ok">{outcome.text}</p>
      {outcome.notes.length > 0 && (
        <ul className="muted lp-notes">
          {outcome.notes.slice(0, 8).map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function LyricsPanel({ target, hasSelection }: { target: LyricsTarget; hasSelection: boolean }) {
  const { canEdit } = useStudio();
  return (
    <section className="lyrics-panel" aria-labelledby="lp-heading">
      <h2 id="lp-heading">Suggestions and rewrites</h2>
      {canEdit ? (
        <>
          <SuggestForm />
          <RestyleForm target={target} hasSelection={hasSelection} />
        </>
      ) : (
        <p className="muted">Viewers read the suggestions; editors ask for them and accept them.</p>
      )}
      <SuggestionList target={target} />
    </section>
  );
}

function SuggestForm() {
  const { api, projectId, doc } = useStudio();
  const id = useId();
  const tracks = useTracks(doc);
  const coaching = useCoaching(doc);
  const [fields, setFields] = useState<SuggestFields>({ theme: "", scheme: "AABB", lines: "", syllables: "", style: "", fitTrackId: "", seed: 0 });
  const [schemeChoice, setSchemeChoice] = useState<string>("AABB");
  const [busy, setBusy] = useState(false);
  const [asked, setAsked] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  // Vocals whose coaching found phrases to fit: their syllables become the targets.
  const coached = tracks.filter((t) => (t.kind === "vocal" || t.kind === "audio") && coaching.some((c) => c.trackId === t.id));
  const fitTrackId = coached.some((t) => t.id === fields.fitTrackId) ? fields.fitTrackId : "";
  const set = (patch: Partial<SuggestFields>) => setFields((f) => ({ ...f, ...patch }));
  const invalid = (field: string) => (outcome?.kind === "error" && outcome.field === field ? true : undefined);
  const schemeLength = normaliseScheme(fields.scheme)?.length ?? null;

  const ask = async (seed: number) => {
    const checked = buildSuggestRequest(projectId, { ...fields, fitTrackId, seed });
    if (!checked.ok) {
      setOutcome({ kind: "error", field: checked.field, text: checked.error });
      return;
    }
    setBusy(true);
    setOutcome(null);
    set({ seed });
    try {
      const { lyrics } = await api.post<LyricsOut>("/api/v1/ai/lyrics", checked.body);
      setAsked(true);
      setOutcome({ kind: "ok", text: `${lyrics.lines.length} lines (${lyrics.rhyme_scheme}) added to the suggestions.`, notes: lyrics.notes ?? [] });
    } catch (error) {
      setOutcome({ kind: "error", field: null, text: errorText(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="lp-form"
      aria-labelledby={`${id}-heading`}
      noValidate
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void ask(fields.seed);
      }}
    >
      <h3 id={`${id}-heading`}>Suggest lines</h3>
      <label>
        Theme
        <input value={fields.theme} maxLength={500} required aria-invalid={invalid("theme")} placeholder="A night drive home" onChange={(e) => set({ theme: e.currentTarget.value })} />
      </label>
      <div className="row wrap">
        <label className="lp-field">
          Rhyme scheme
          <select
            value={schemeChoice}
            onChange={(e) => {
              const choice = e.currentTarget.value;
              setSchemeChoice(choice);
              if (choice !== OTHER) set({ scheme: choice });
            }}
          >
            {RHYME_SCHEMES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value={OTHER}>Other…</option>
          </select>
        </label>
        {schemeChoice === OTHER && (
          <label className="lp-field">
            Your rhyme scheme
            <input
              value={fields.scheme}
              maxLength={MAX_LINES + 8}
              autoCapitalize="characters"
              spellCheck={false}
              aria-invalid={invalid("scheme")}
              placeholder="ABABCC"
              onChange={(e) => set({ scheme: e.currentTarget.value.toUpperCase() })}
            />
          </label>
        )}
        <label className="lp-field lp-narrow">
          Lines
          <input
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_LINES}
            value={fields.lines}
            aria-invalid={invalid("lines")}
            placeholder={schemeLength ? String(schemeLength) : ""}
            onChange={(e) => set({ lines: e.currentTarget.value })}
          />
        </label>
      </div>
      <div className="row wrap">
        <label className="lp-field">
          Fit to the melody of
          <select value={fitTrackId} onChange={(e) => set({ fitTrackId: e.currentTarget.value })} disabled={!coached.length}>
            <option value="">{coached.length ? "No melody" : "None coached yet"}</option>
            {coached.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label className="lp-field">
          Syllables per line
          <input
            value={fitTrackId ? "" : fields.syllables}
            disabled={!!fitTrackId}
            inputMode="numeric"
            aria-invalid={invalid("syllables")}
            aria-describedby={`${id}-syllables-hint`}
            placeholder={fitTrackId ? "From the melody" : "8 or 8, 6, 8, 6"}
            onChange={(e) => set({ syllables: e.currentTarget.value })}
          />
        </label>
      </div>
      <p id={`${id}-syllables-hint`} className="muted hint">
        One number for every line, or one per line separated by commas.
      </p>
      <label>
        Style
        <input value={fields.style} maxLength={100} list={`${id}-styles`} aria-invalid={invalid("style")} placeholder="Any" onChange={(e) => set({ style: e.currentTarget.value })} />
        <datalist id={`${id}-styles`}>
          {STYLES.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      </label>
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          Suggest lines
        </button>
        <button type="button" disabled={busy || !asked} onClick={() => void ask(fields.seed + 1)}>
          Another
        </button>
      </div>
      {busy && (
        <p role="status" className="muted">
          Writing…
        </p>
      )}
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

function RestyleForm({ target, hasSelection }: { target: LyricsTarget; hasSelection: boolean }) {
  const { api, projectId } = useStudio();
  const id = useId();
  const [style, setStyle] = useState<string>(STYLES[0]);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const what = hasSelection ? "the selection" : "the lyrics";

  const rewrite = async () => {
    const checked = buildRestyleRequest(projectId, target.textToRewrite(), style);
    if (!checked.ok) {
      setOutcome({ kind: "error", field: checked.field, text: checked.error });
      return;
    }
    setBusy(true);
    setOutcome(null);
    try {
      const { lyrics } = await api.post<LyricsOut>("/api/v1/ai/lyrics/restyle", checked.body);
      setOutcome({ kind: "ok", text: `A rewrite of ${lyrics.lines.length} lines was added to the suggestions.`, notes: lyrics.notes ?? [] });
    } catch (error) {
      setOutcome({ kind: "error", field: null, text: errorText(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="lp-form"
      aria-labelledby={`${id}-heading`}
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void rewrite();
      }}
    >
      <h3 id={`${id}-heading`}>Rewrite in a style</h3>
      <div className="row wrap">
        <label className="lp-field">
          Rewrite style
          <select value={style} onChange={(e) => setStyle(e.currentTarget.value)}>
            {STYLES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value={MY_STYLE}>My own style</option>
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Rewrite {what}
        </button>
      </div>
      <p className="muted hint">Keeps the rhyme scheme. Select lines in the editor to rewrite only them.</p>
      {busy && (
        <p role="status" className="muted">
          Rewriting…
        </p>
      )}
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

// The suggestions every peer sees (lyrics_meta.suggestions, newest first). Accept puts
// the lines into the lyrics as this writer's own edit (undoable like typing) and tells
// the server; Reject only tells the server. Viewers read them without the buttons.
import { useState } from "react";
import { ApiError } from "../api/client";
import type { LyricsFeedbackOut } from "../api/types";
import { useLyricsSuggestions, usePeers } from "../doc/hooks";
import { actorUserId, type LyricsSuggestion, type Verdict } from "../doc/lyrics";
import { useStudio } from "./context";
import { buildFeedback } from "./lyricsRequests";
import { peopleOf } from "./presence";

/** What the panel can do to the editor beside it. */
export interface LyricsTarget {
  /** Insert `lines` as this client's edit; false when the editor is not there. */
  insertLines(lines: string[]): boolean;
  /** The selected text, or all the lyrics when nothing is selected. */
  textToRewrite(): string;
}

const VERDICT_TEXT: Record<Verdict, string> = { accepted: "Accepted", edited: "Accepted with edits", rejected: "Rejected" };

export function errorText(error: unknown): string {
  const message = error instanceof ApiError ? error.message : "Something went wrong. Try again.";
  return message.charAt(0).toUpperCase() + message.slice(1);
}

export function titleOf(suggestion: LyricsSuggestion): string {
  if (suggestion.kind === "restyle") return suggestion.style ? `Rewrite in ${suggestion.style}` : "Rewrite";
  return suggestion.theme ? `Lines about ${suggestion.theme}` : "Suggested lines";
}

export function SuggestionList({ target }: { target: LyricsTarget }) {
  const { doc, awareness, me } = useStudio();
  const suggestions = useLyricsSuggestions(doc);
  const peers = usePeers(awareness);
  const nameOf = (actor: string): string | null => {
    if (actor.startsWith("apikey:")) return "a bot";
    const userId = actorUserId(actor);
    if (!userId) return null;
    if (userId === me.id) return "you";
    return peopleOf(peers).find((p) => p.userId === userId)?.name ?? null;
  };
  return (
    <section className="lp-suggestions" aria-labelledby="lp-suggestions-heading">
      <h3 id="lp-suggestions-heading">Suggestions ({suggestions.length})</h3>
      {suggestions.length === 0 ? (
        <p className="muted">No suggestions yet.</p>
      ) : (
        <ol className="lp-list" aria-labelledby="lp-suggestions-heading">
          {suggestions.map((s) => (
            <li key={s.id}>
              <SuggestionItem suggestion={s} target={target} author={nameOf(s.requestedBy)} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function SuggestionItem({ suggestion, target, author }: { suggestion: LyricsSuggestion; target: LyricsTarget; author: string | null }) {
  const { api, projectId, canEdit } = useStudio();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Shown at once; the server's verdict in the document follows.
  const [sent, setSent] = useState<Verdict | null>(null);
  const verdict = suggestion.verdict ?? sent;
  const headingId = `lp-suggestion-${suggestion.id}`;
  const title = titleOf(suggestion);

  const judge = async (chosen: Verdict) => {
    setBusy(true);
    setError(null);
    try {
      if (chosen === "accepted" && !target.insertLines(suggestion.lines)) {
        setError("The lyrics editor is not ready yet.");
        return;
      }
      setSent(chosen);
      await api.post<LyricsFeedbackOut>(
        "/api/v1/ai/lyrics/feedback",
        buildFeedback(projectId, suggestion.id, chosen, chosen === "accepted" ? suggestion.lines.join("\n") : undefined),
      );
    } catch (e) {
      // Accepted lines are in the lyrics already; a refusal can be sent again.
      if (chosen === "rejected") setSent(null);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const when = new Date(suggestion.createdAt * 1000);
  return (
    <article className={`lp-item${verdict ? ` lp-item-${verdict}` : ""}`} aria-labelledby={headingId}>
      <div className="lp-item-head">
        <h4 id={headingId}>{title}</h4>
        <span className={`badge lp-source lp-source-${suggestion.source}`} title={suggestion.source === "offline" ? "Written on the server, offline" : "Written by an OpenAI model"}>
          {suggestion.source}
        </span>
        {suggestion.rhymeScheme && (
          <span className="badge" aria-label={`Rhyme scheme ${suggestion.rhymeScheme}`}>
            {suggestion.rhymeScheme}
          </span>
        )}
      </div>
      <ol className="lp-lines" aria-label={`${title}: lines`}>
        {suggestion.lines.map((line, i) => (
          <li key={i}>
            <span className="lp-line-text">{line}</span>
            {suggestion.syllables[i] !== null && (
              <span className="lp-line-syllables" aria-label={`${suggestion.syllables[i]} syllables`}>
                {suggestion.syllables[i]}
              </span>
            )}
          </li>
        ))}
      </ol>
      <p className="muted lp-item-meta">
        {author ? `Asked by ${author}, ` : ""}
        <time dateTime={when.toISOString()}>{when.toLocaleString()}</time>
        {suggestion.style && suggestion.kind === "suggestion" ? ` · ${suggestion.style}` : ""}
      </p>
      {verdict && (
        <p className={`lp-verdict lp-verdict-${verdict}`}>{VERDICT_TEXT[verdict]}</p>
      )}
      {canEdit && !verdict && (
        <div className="row">
          <button type="button" className="primary small" disabled={busy} onClick={() => void judge("accepted")} aria-describedby={headingId}>
            Accept
          </button>
          <button type="button" className="small" disabled={busy} onClick={() => void judge("rejected")} aria-describedby={headingId}>
            Reject
          </button>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

// Comments on the song: threads (a comment without replyTo starts one, replies follow
// oldest first), optionally pinned to a time in the song. Everything is written into
// the shared document through doc/model.ts; resolved threads fold under a toggle.
import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { useComments } from "../doc/hooks";
import { addComment, removeComment, setCommentResolved, type Comment } from "../doc/model";
import { usePlayerState } from "../audio/usePlayer";
import { useStudio } from "./context";
import { relativeTime, songTime, threadComments, type Thread } from "./commentThreads";
import "./comments.css";

const MAX_LENGTH = 4000;

/** The playhead, re-read while playing (twice a second is enough for a label). */
function usePlayhead(): number {
  const { player } = useStudio();
  const { playing } = usePlayerState(player);
  const [position, setPosition] = useState(() => player.position());
  useEffect(() => {
    setPosition(player.position());
    if (!playing) return;
    const timer = setInterval(() => setPosition(player.position()), 500);
    return () => clearInterval(timer);
  }, [player, playing]);
  // Seeks while paused change the state snapshot too: re-read on every render.
  return playing ? position : player.position();
}

/** Ctrl/Cmd+Enter sends the form the textarea is in. */
function submitOnCtrlEnter(event: KeyboardEvent<HTMLTextAreaElement>) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    event.currentTarget.form?.requestSubmit();
  }
}

export function CommentsPanel() {
  const { doc, canEdit, me } = useStudio();
  const comments = useComments(doc);
  const threads = threadComments(comments);
  const open = threads.filter((t) => !t.root.resolved);
  const resolved = threads.filter((t) => t.root.resolved);
  const [showResolved, setShowResolved] = useState(false);
  const resolvedId = useId();

  return (
    <section className="comments" aria-label="Comments">
      <NewComment />
      {threads.length === 0 && <p className="muted">No comments yet.</p>}
      {open.length > 0 && (
        <ul className="comment-threads" aria-label="Open comments">
          {open.map((t) => (
            <ThreadView key={t.root.id} thread={t} canEdit={canEdit} me={me.name} />
          ))}
        </ul>
      )}
      {threads.length > 0 && open.length === 0 && <p className="muted">Every comment is resolved.</p>}
      {resolved.length > 0 && (
        <div className="comment-resolved">
          <button type="button" aria-expanded={showResolved} aria-controls={resolvedId} onClick={() => setShowResolved((s) => !s)}>
            {showResolved ? "Hide resolved" : "Show resolved"} ({resolved.length})
          </button>
          <ul id={resolvedId} className="comment-threads" aria-label="Resolved comments" hidden={!showResolved}>
            {showResolved && resolved.map((t) => <ThreadView key={t.root.id} thread={t} canEdit={canEdit} me={me.name} />)}
          </ul>
        </div>
      )}
    </section>
  );
}

function NewComment() {
  const { doc, canEdit, me, player } = useStudio();
  const [text, setText] = useState("");
  const [pin, setPin] = useState(true);
  const [status, setStatus] = useState<string | null>(null);
  const playhead = usePlayhead();
  const noteId = useId();

  function submit(event: FormEvent) {
    event.preventDefault();
    const body = text.trim();
    if (!canEdit || !body) return;
    const at = pin ? Math.max(0, player.position()) : null;
    addComment(doc, me.name, body.slice(0, MAX_LENGTH), at);
    setText("");
    setStatus(at === null ? "Comment added." : `Comment added at ${songTime(at)}.`);
  }

  return (
    <form className="comment-form" onSubmit={submit} aria-describedby={canEdit ? undefined : noteId}>
      <label>
        Comment
        <textarea
          value={text}
          rows={3}
          maxLength={MAX_LENGTH}
          disabled={!canEdit}
          onChange={(e) => {
            setText(e.target.value);
            setStatus(null);
          }}
          onKeyDown={submitOnCtrlEnter}
          placeholder={canEdit ? "What do you hear? (Ctrl+Enter sends)" : undefined}
        />
      </label>
      <div className="comment-form-row">
        <label className="check">
          <input type="checkbox" checked={pin} disabled={!canEdit} onChange={(e) => setPin(e.target.checked)} />
          Pin to the playhead ({songTime(playhead)})
        </label>
        <button type="submit" className="primary" disabled={!canEdit || !text.trim()}>
          Add comment
        </button>
      </div>
      {!canEdit && (
        <p id={noteId} className="muted comment-note">
          Viewers can read comments but not add them.
        </p>
      )}
      <p role="status" className="sr-only">
        {status ?? ""}
      </p>
    </form>
  );
}

function ThreadView({ thread, canEdit, me }: { thread: Thread; canEdit: boolean; me: string }) {
  const { doc, me: user } = useStudio();
  const [replying, setReplying] = useState(false);
  const [reply, setReply] = useState("");
  const { root } = thread;
  const label = `Comment by ${root.author}${root.timeS !== null ? ` at ${songTime(root.timeS)}` : ""}${root.resolved ? ", resolved" : ""}`;

  function sendReply(event: FormEvent) {
    event.preventDefault();
    const body = reply.trim();
    if (!canEdit || !body) return;
    addComment(doc, user.name, body.slice(0, MAX_LENGTH), null, root.id);
    setReply("");
    setReplying(false);
  }

  return (
    <li className={`comment-thread${root.resolved ? " is-resolved" : ""}`}>
      <article aria-label={label}>
        {thread.orphan && <p className="muted comment-note">In reply to a deleted comment.</p>}
        <CommentView comment={root} canEdit={canEdit} mine={root.author === me} />
        {thread.replies.length > 0 && (
          <ul className="comment-replies" aria-label={`Replies to ${root.author}`}>
            {thread.replies.map((r) => (
              <li key={r.id}>
                <CommentView comment={r} canEdit={canEdit} mine={r.author === me} />
              </li>
            ))}
          </ul>
        )}
        <div className="comment-actions">
          <button type="button" disabled={!canEdit} aria-expanded={replying} onClick={() => setReplying((r) => !r)}>
            Reply
          </button>
          <button type="button" disabled={!canEdit} onClick={() => setCommentResolved(doc, root.id, !root.resolved)}>
            {root.resolved ? "Reopen" : "Resolve"}
          </button>
        </div>
        {replying && canEdit && (
          <form className="comment-reply" onSubmit={sendReply}>
            <label>
              Reply to {root.author}
              <textarea
                value={reply}
                rows={2}
                maxLength={MAX_LENGTH}
                autoFocus
                onChange={(e) => setReply(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Escape") setReplying(false);
                  else submitOnCtrlEnter(e);
                }}
              />
            </label>
            <div className="comment-actions">
              <button type="submit" className="primary" disabled={!reply.trim()}>
                Send reply
              </button>
              <button type="button" onClick={() => setReplying(false)}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </article>
    </li>
  );
}

function CommentView({ comment, canEdit, mine }: { comment: Comment; canEdit: boolean; mine: boolean }) {
  const { doc, player } = useStudio();
  const when = relativeTime(comment.createdAt);
  return (
    <div className="comment">
      <div className="comment-head">
        <strong className="comment-author">{comment.author}</strong>
        {comment.timeS !== null && (
          <button type="button" className="comment-time" onClick={() => player.seek(comment.timeS!)}>
            Go to {songTime(comment.timeS)}
          </button>
        )}
        {when && (
          <time className="muted comment-when" dateTime={new Date(comment.createdAt! * 1000).toISOString()}>
            {when}
          </time>
        )}
      </div>
      <p className="comment-text">{comment.text}</p>
      {mine && (
        <button
          type="button"
          className="danger comment-delete"
          disabled={!canEdit}
          aria-label={`Delete your comment “${comment.text.slice(0, 40)}${comment.text.length > 40 ? "…" : ""}”`}
          onClick={() => removeComment(doc, comment.id)}
        >
          Delete
        </button>
      )}
    </div>
  );
}

// Comments grouped into threads: a comment without `replyTo` starts one; replies
// (and replies to replies) follow their thread's first comment, oldest first.
import type { Comment } from "../doc/model";

export interface Thread {
  root: Comment;
  replies: Comment[];
  /** The thread's first comment answered one that was deleted meanwhile. */
  orphan: boolean;
}

const byAge = (a: { c: Comment; i: number }, b: { c: Comment; i: number }): number =>
  (a.c.createdAt ?? Infinity) - (b.c.createdAt ?? Infinity) || a.i - b.i;

/** Threads in document order of their first comment; each thread's replies oldest first. */
export function threadComments(comments: Comment[]): Thread[] {
  const byId = new Map<string, Comment>();
  for (const c of comments) if (!byId.has(c.id)) byId.set(c.id, c);

  const position = new Map<string, number>();
  comments.forEach((c, i) => {
    if (!position.has(c.id)) position.set(c.id, i);
  });

  // The thread a comment belongs to: follow replyTo up to a comment that starts one.
  // A reply to a deleted comment starts its own (orphan) thread; in a cycle (peers can
  // write anything) the member first in the document starts the thread.
  const rootOf = (c: Comment): Comment => {
    const path: Comment[] = [c];
    let current = c;
    while (current.replyTo !== null) {
      const parent = byId.get(current.replyTo);
      if (!parent) return current;
      const seenAt = path.indexOf(parent);
      if (seenAt >= 0) {
        const cycle = path.slice(seenAt);
        return cycle.reduce((a, b) => ((position.get(b.id) ?? 0) < (position.get(a.id) ?? 0) ? b : a));
      }
      path.push(parent);
      current = parent;
    }
    return current;
  };

  const threads = new Map<string, { root: Comment; replies: Array<{ c: Comment; i: number }> }>();
  const order: string[] = [];
  comments.forEach((c, i) => {
    if (byId.get(c.id) !== c) return; // a duplicate id: the first one wins
    const root = rootOf(c);
    let thread = threads.get(root.id);
    if (!thread) {
      thread = { root, replies: [] };
      threads.set(root.id, thread);
      order.push(root.id);
    }
    if (c !== root) thread.replies.push({ c, i });
  });
  // A thread appears where its first comment is in the document.
  order.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  return order.map((id) => {
    const t = threads.get(id)!;
    return {
      root: t.root,
      replies: t.replies.sort(byAge).map((r) => r.c),
      orphan: t.root.replyTo !== null && !byId.has(t.root.replyTo),
    };
  });
}

/** "0:12" for a time in the song (hours roll into minutes). */
export function songTime(timeS: number): string {
  const total = Math.max(0, Math.floor(Number.isFinite(timeS) ? timeS : 0));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

/** "2 min ago", "yesterday"... for a comment's `created_at` (epoch seconds). */
export function relativeTime(atS: number | null, nowMs: number = Date.now()): string {
  if (atS === null) return "";
  const seconds = Math.round(nowMs / 1000 - atS);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 30) return `${days} days ago`;
  return new Date(atS * 1000).toLocaleDateString();
}

import { describe, expect, it } from "vitest";
import type { Comment } from "../doc/model";
import { relativeTime, songTime, threadComments } from "./commentThreads";

const c = (id: string, replyTo: string | null = null, createdAt: number | null = null, extra: Partial<Comment> = {}): Comment => ({
  id,
  author: "ana",
  text: id,
  timeS: null,
  createdAt,
  replyTo,
  resolved: false,
  ...extra,
});

describe("threadComments", () => {
  it("groups replies under their thread, oldest first", () => {
    const threads = threadComments([c("a", null, 1), c("b", null, 2), c("a2", "a", 5), c("a1", "a", 3), c("b1", "b", 4)]);
    expect(threads.map((t) => [t.root.id, t.replies.map((r) => r.id)])).toEqual([
      ["a", ["a1", "a2"]],
      ["b", ["b1"]],
    ]);
  });

  it("puts replies to replies in the first comment's thread", () => {
    const threads = threadComments([c("a", null, 1), c("a1", "a", 2), c("a1x", "a1", 3)]);
    expect(threads).toHaveLength(1);
    expect(threads[0].replies.map((r) => r.id)).toEqual(["a1", "a1x"]);
  });

  it("keeps a reply to a deleted comment as its own thread, marked orphan", () => {
    const threads = threadComments([c("x1", "gone", 1), c("x2", "x1", 2)]);
    expect(threads).toHaveLength(1);
    expect(threads[0].root.id).toBe("x1");
    expect(threads[0].orphan).toBe(true);
    expect(threads[0].replies.map((r) => r.id)).toEqual(["x2"]);
  });

  it("survives reply cycles and duplicate ids", () => {
    const threads = threadComments([c("p", "q", 1), c("q", "p", 2), c("p", null, 3)]);
    const ids = threads.flatMap((t) => [t.root.id, ...t.replies.map((r) => r.id)]);
    expect(ids.sort()).toEqual(["p", "q"]);
  });

  it("orders replies without a timestamp by document order, after timed ones", () => {
    const threads = threadComments([c("a"), c("r2", "a"), c("r1", "a", 10), c("r3", "a")]);
    expect(threads[0].replies.map((r) => r.id)).toEqual(["r1", "r2", "r3"]);
  });
});

describe("songTime", () => {
  it("formats m:ss", () => {
    expect(songTime(0)).toBe("0:00");
    expect(songTime(12.9)).toBe("0:12");
    expect(songTime(75)).toBe("1:15");
    expect(songTime(3725)).toBe("62:05");
    expect(songTime(-3)).toBe("0:00");
    expect(songTime(Number.NaN)).toBe("0:00");
  });
});

describe("relativeTime", () => {
  const now = 1_700_000_000_000;
  it("says how long ago", () => {
    expect(relativeTime(null, now)).toBe("");
    expect(relativeTime(now / 1000 - 10, now)).toBe("just now");
    expect(relativeTime(now / 1000 - 300, now)).toBe("5 min ago");
    expect(relativeTime(now / 1000 - 3 * 3600, now)).toBe("3 h ago");
    expect(relativeTime(now / 1000 - 26 * 3600, now)).toBe("yesterday");
    expect(relativeTime(now / 1000 - 5 * 86400, now)).toBe("5 days ago");
  });
});

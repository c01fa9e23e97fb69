// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { Awareness } from "y-protocols/awareness";
import { ApiError, type ApiClient } from "../api/client";
import { lyricsMetaOf } from "../doc/model";
import { StudioContext, type Studio } from "./context";
import { SuggestionList, type LyricsTarget } from "./LyricsSuggestions";

afterEach(cleanup);

const ME = "0123456789abcdef0123456789abcdef";

function setup({ canEdit = true, post = vi.fn().mockResolvedValue({}) } = {}) {
  const doc = new Y.Doc();
  const suggestions = new Y.Map<unknown>();
  lyricsMetaOf(doc).set("suggestions", suggestions);
  const add = (id: string, createdAt: number, extra: Record<string, unknown> = {}) =>
    suggestions.set(id, {
      id,
      lines: [`${id} one`, `${id} two`],
      rhyme_scheme: "AA",
      source: "offline",
      theme: id,
      style: null,
      syllables: [2, 2],
      requested_by: `user:${ME}`,
      created_at: createdAt,
      verdict: null,
      kind: "suggestion",
      ...extra,
    });
  const target: LyricsTarget = { insertLines: vi.fn().mockReturnValue(true), textToRewrite: () => "" };
  const studio = {
    projectId: "p1",
    doc,
    awareness: new Awareness(doc),
    api: { post } as unknown as ApiClient,
    me: { id: ME, name: "Me", color: "#fff", colorLight: "#fff", kind: "person" },
    canEdit,
  } as unknown as Studio;
  render(
    <StudioContext.Provider value={studio}>
      <SuggestionList target={target} />
    </StudioContext.Provider>,
  );
  return { add, suggestions, target, post };
}

const card = (theme: string) => screen.getByRole("article", { name: `Lines about ${theme}` });

describe("SuggestionList", () => {
  it("lists the document's suggestions newest first, live", () => {
    const { add, suggestions } = setup();
    expect(screen.getByText("No suggestions yet.")).toBeTruthy();
    act(() => add("older", 1));
    act(() => add("newer", 2));
    act(() => suggestions.set("junk", { id: 3 }));
    expect(screen.getAllByRole("article").map((a) => a.getAttribute("aria-labelledby"))).toEqual([
      "lp-suggestion-newer",
      "lp-suggestion-older",
    ]);
    const older = card("older");
    expect(within(older).getByText("offline")).toBeTruthy();
    expect(within(older).getAllByLabelText("2 syllables")).toHaveLength(2);
    expect(older.textContent).toContain("Asked by you");
  });

  it("accepts: the lines go into the lyrics, then the verdict to the server", async () => {
    const { add, target, post } = setup();
    act(() => add("s1", 1));
    await act(async () => fireEvent.click(within(card("s1")).getByRole("button", { name: "Accept" })));
    expect(target.insertLines).toHaveBeenCalledWith(["s1 one", "s1 two"]);
    expect(post).toHaveBeenCalledWith("/api/v1/ai/lyrics/feedback", {
      project_id: "p1",
      suggestion_id: "s1",
      verdict: "accepted",
      text: "s1 one\ns1 two",
    });
    expect(card("s1").textContent).toContain("Accepted");
    expect(within(card("s1")).queryByRole("button", { name: "Accept" })).toBeNull();
  });

  it("rejects without touching the lyrics, and shows a refusal", async () => {
    const post = vi.fn().mockRejectedValue(new ApiError(429, "rate_limited", "too many requests, try again in 20 s"));
    const { add, target } = setup({ post });
    act(() => add("s1", 1));
    await act(async () => fireEvent.click(within(card("s1")).getByRole("button", { name: "Reject" })));
    expect(target.insertLines).not.toHaveBeenCalled();
    expect(post.mock.calls[0][1]).toEqual({ project_id: "p1", suggestion_id: "s1", verdict: "rejected" });
    expect(within(card("s1")).getByRole("alert").textContent).toBe("Too many requests, try again in 20 s");
    // The refusal was not recorded: the choice is offered again.
    expect(within(card("s1")).getByRole("button", { name: "Reject" })).toBeTruthy();
  });

  it("shows a verdict from the document and no buttons to viewers", () => {
    const { add } = setup({ canEdit: false });
    act(() => add("s1", 1));
    act(() => add("s2", 2, { verdict: "rejected" }));
    expect(screen.queryAllByRole("button")).toHaveLength(0);
    expect(card("s2").textContent).toContain("Rejected");
  });
});

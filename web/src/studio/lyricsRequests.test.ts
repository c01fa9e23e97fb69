import { describe, expect, it } from "vitest";
import { buildFeedback, buildRestyleRequest, buildSuggestRequest, insertionFor, MY_STYLE, normaliseScheme, type SuggestForm } from "./lyricsRequests";

const form = (patch: Partial<SuggestForm> = {}): SuggestForm => ({
  theme: "  a night drive ",
  scheme: "ABAB",
  lines: "",
  syllables: "",
  style: "",
  fitTrackId: "",
  seed: 0,
  ...patch,
});

describe("buildSuggestRequest", () => {
  it("sends only what was given", () => {
    expect(buildSuggestRequest("p1", form())).toEqual({
      ok: true,
      body: { project_id: "p1", theme: "a night drive", rhyme_scheme: "ABAB", seed: 0 },
    });
    expect(buildSuggestRequest("p1", form({ scheme: "a a b b", lines: "8", syllables: "7", style: " country ", seed: 3 }))).toEqual({
      ok: true,
      body: { project_id: "p1", theme: "a night drive", rhyme_scheme: "AABB", lines: 8, syllables: 7, style: "country", seed: 3 },
    });
  });

  it("takes one syllable count per line", () => {
    const checked = buildSuggestRequest("p1", form({ syllables: "8, 6 8;6" }));
    expect(checked.ok && checked.body.syllables).toEqual([8, 6, 8, 6]);
    const six = buildSuggestRequest("p1", form({ lines: "6", syllables: "1,2,3,4,5,6" }));
    expect(six.ok && six.body.syllables).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("fits the syllables to a coached track instead of typed counts", () => {
    const checked = buildSuggestRequest("p1", form({ fitTrackId: "t9", syllables: "8" }));
    expect(checked).toEqual({ ok: true, body: { project_id: "p1", theme: "a night drive", rhyme_scheme: "ABAB", fit_to_track: "t9", seed: 0 } });
  });

  it("refuses what the server would, naming the field", () => {
    const field = (patch: Partial<SuggestForm>) => {
      const checked = buildSuggestRequest("p1", form(patch));
      return checked.ok ? null : checked.field;
    };
    expect(field({ theme: "   " })).toBe("theme");
    expect(field({ theme: "x".repeat(501) })).toBe("theme");
    expect(field({ scheme: "AB1" })).toBe("scheme");
    expect(field({ scheme: "" })).toBe("scheme");
    expect(field({ scheme: "A".repeat(33) })).toBe("scheme");
    expect(field({ lines: "0" })).toBe("lines");
    expect(field({ lines: "33" })).toBe("lines");
    expect(field({ lines: "2.5" })).toBe("lines");
    expect(field({ syllables: "0" })).toBe("syllables");
    expect(field({ syllables: "25" })).toBe("syllables");
    expect(field({ syllables: "8, six" })).toBe("syllables");
    expect(field({ syllables: "8, 6, 8" })).toBe("syllables");
    expect(field({ style: "s".repeat(101) })).toBe("style");
  });
});

describe("normaliseScheme", () => {
  it("forgives case and spaces", () => {
    expect(normaliseScheme(" ab ab ")).toBe("ABAB");
    expect(normaliseScheme("AB-AB")).toBeNull();
  });
});

describe("buildRestyleRequest", () => {
  it("names the style, or asks for the writer's own", () => {
    expect(buildRestyleRequest("p1", " la la\nla ", "gospel")).toEqual({ ok: true, body: { project_id: "p1", text: "la la\nla", style: "gospel" } });
    expect(buildRestyleRequest("p1", "la", MY_STYLE)).toEqual({ ok: true, body: { project_id: "p1", text: "la", my_style: true } });
    expect(buildRestyleRequest("p1", "la", "")).toEqual({ ok: true, body: { project_id: "p1", text: "la" } });
  });

  it("needs some text", () => {
    expect(buildRestyleRequest("p1", " \n ", "pop")).toMatchObject({ ok: false, field: "text" });
    expect(buildRestyleRequest("p1", "x".repeat(4001), "pop")).toMatchObject({ ok: false, field: "text" });
  });
});

describe("buildFeedback", () => {
  it("carries the text only when given", () => {
    expect(buildFeedback("p", "s", "rejected")).toEqual({ project_id: "p", suggestion_id: "s", verdict: "rejected" });
    expect(buildFeedback("p", "s", "accepted", "a\nb")).toEqual({ project_id: "p", suggestion_id: "s", verdict: "accepted", text: "a\nb" });
  });
});

describe("insertionFor", () => {
  const apply = (doc: string, cursor: number | null, lines: string[]) => {
    const { from, insert } = insertionFor(doc, cursor, lines);
    return doc.slice(0, from) + insert + doc.slice(from);
  };

  it("appends on new lines without a cursor", () => {
    expect(apply("", null, ["a", "b"])).toBe("a\nb");
    expect(apply("one", null, ["a", "b"])).toBe("one\na\nb");
    expect(apply("one\n", null, ["a"])).toBe("one\na");
  });

  it("goes after the cursor's line", () => {
    expect(apply("one\ntwo\nthree", 1, ["a", "b"])).toBe("one\na\nb\ntwo\nthree");
    expect(apply("one\ntwo\nthree", 4, ["a"])).toBe("one\ntwo\na\nthree");
    expect(apply("one\ntwo", 7, ["a"])).toBe("one\ntwo\na");
    expect(apply("one\ntwo", 0, ["a"])).toBe("one\na\ntwo");
  });

  it("fills an empty line the cursor is on", () => {
    expect(apply("one\n\ntwo", 4, ["a", "b"])).toBe("one\na\nb\ntwo");
    expect(apply("\none", 0, ["a"])).toBe("a\none");
    expect(apply("", 0, ["a"])).toBe("a");
  });

  it("treats a cursor outside the text as none", () => {
    expect(apply("one", 99, ["a"])).toBe("one\na");
  });
});

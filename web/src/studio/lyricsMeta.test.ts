import { describe, expect, it } from "vitest";
import { describeLyricsMeta } from "./lyricsMeta";

describe("describeLyricsMeta", () => {
  it("shows sections and the rhyme scheme first", () => {
    expect(
      describeLyricsMeta({
        zeta: "last",
        rhyme_scheme: "ABAB",
        sections: [{ name: "Verse 1", start_line: 1, end_line: 4 }, { label: "Chorus" }, "Bridge"],
      }),
    ).toEqual([
      { label: "Sections", value: "Verse 1 (lines 1–4) · Chorus · Bridge" },
      { label: "Rhyme scheme", value: "ABAB" },
      { label: "Zeta", value: "last" },
    ]);
  });

  it("skips empty and unreadable values", () => {
    expect(describeLyricsMeta(null)).toEqual([]);
    expect(describeLyricsMeta([1, 2])).toEqual([]);
    expect(describeLyricsMeta({ a: null, b: "  ", c: [], d: { e: null } })).toEqual([]);
    expect(describeLyricsMeta({ syllables_per_line: [8, 8, 6] })).toEqual([{ label: "Syllables per line", value: "8 · 8 · 6" }]);
  });

  it("leaves out the suggestions and the analysis (they have panels of their own)", () => {
    expect(describeLyricsMeta({ suggestions: { a: { id: "a" } }, analysis: { sections: [] }, mood: "calm" })).toEqual([{ label: "Mood", value: "calm" }]);
  });

  it("shortens long values", () => {
    const [line] = describeLyricsMeta({ mood: "x".repeat(500) });
    expect(line.value).toHaveLength(300);
    expect(line.value.endsWith("…")).toBe(true);
  });
});

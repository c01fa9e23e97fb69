import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { actorUserId, parseAnalysis, parseSuggestion, parseSuggestions, readLyricsAnalysis, readLyricsSuggestions } from "./lyrics";
import { lyricsMetaOf } from "./model";

const entry = (id: string, createdAt: number, extra: Record<string, unknown> = {}) => ({
  id,
  lines: ["Neon on the water", "Engines in the rain"],
  rhyme_scheme: "AB",
  source: "offline",
  theme: "night drive",
  style: null,
  syllables: [6, 5],
  requested_by: "u1",
  created_at: createdAt,
  verdict: null,
  kind: "suggestion",
  ...extra,
});

describe("parseSuggestion", () => {
  it("reads a well-formed entry", () => {
    expect(parseSuggestion(entry("s1", 10))).toEqual({
      id: "s1",
      lines: ["Neon on the water", "Engines in the rain"],
      syllables: [6, 5],
      rhymeScheme: "AB",
      source: "offline",
      theme: "night drive",
      style: null,
      requestedBy: "u1",
      createdAt: 10,
      verdict: null,
      kind: "suggestion",
    });
  });

  it("skips entries without an id, lines, a known source or a time", () => {
    for (const bad of [
      null,
      "text",
      [1, 2],
      entry("", 1),
      { ...entry("s", 1), id: 5 },
      { ...entry("s", 1), lines: [] },
      { ...entry("s", 1), lines: "one line" },
      { ...entry("s", 1), lines: ["ok", 3] },
      { ...entry("s", 1), lines: Array(65).fill("x") },
      { ...entry("s", 1), source: "gpt-9" },
      { ...entry("s", 1), created_at: "yesterday" },
      { ...entry("s", 1), created_at: Number.NaN },
    ]) {
      expect(parseSuggestion(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it("reads bad optional fields as defaults", () => {
    const s = parseSuggestion(
      entry("s", 1, { syllables: [6, "five", 7], rhyme_scheme: "<b>", theme: 4, verdict: "maybe", kind: "weird", requested_by: {} }),
    );
    expect(s).toMatchObject({ syllables: [6, null], rhymeScheme: "", theme: null, verdict: null, kind: "suggestion", requestedBy: "" });
    expect(parseSuggestion(entry("r", 1, { kind: "restyle", verdict: "rejected", syllables: "lots" }))).toMatchObject({
      kind: "restyle",
      verdict: "rejected",
      syllables: [null, null],
    });
  });
});

describe("parseSuggestions", () => {
  it("reads the nested Y.Map newest first, skipping junk and repeated ids", () => {
    const doc = new Y.Doc();
    const map = new Y.Map<unknown>();
    lyricsMetaOf(doc).set("suggestions", map);
    map.set("old", entry("old", 1));
    map.set("new", entry("new", 3));
    map.set("junk", { hello: "world" });
    map.set("copy", entry("new", 2));
    const nested = new Y.Map<unknown>();
    map.set("mid", nested);
    nested.set("id", "mid");
    nested.set("lines", ["a"]);
    nested.set("source", "openai");
    nested.set("created_at", 2);
    expect(readLyricsSuggestions(doc).map((s) => s.id)).toEqual(["new", "mid", "old"]);
  });

  it("accepts a plain object and refuses anything else", () => {
    expect(parseSuggestions({ a: entry("a", 1) }).map((s) => s.id)).toEqual(["a"]);
    expect(parseSuggestions([entry("a", 1)])).toEqual([]);
    expect(parseSuggestions(undefined)).toEqual([]);
    expect(parseSuggestions("x")).toEqual([]);
  });

  it("caps what a peer can flood the page with", () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`s${i}`, entry(`s${i}`, i)]));
    const parsed = parseSuggestions(many);
    expect(parsed).toHaveLength(50);
    expect(parsed[0].id).toBe("s499");
  });
});

const analysis = {
  sections: [
    {
      label: "Verse 1",
      rhyme_scheme: "AA",
      lines: [
        { line_number: 1, text: "I drove all night", syllables: 4, stress: "0101", end_word: "night", rhyme: "A", rhyme_kind: "none" },
        { line_number: 2, text: "into the light", syllables: 4, stress: "1001", end_word: "light", rhyme: "A", rhyme_kind: "perfect" },
      ],
    },
  ],
  rhyme_density: 1,
  repeated_phrases: [{ phrase: "all night", lines: [0, 1] }],
  cliches: [{ phrase: "all night long", line: 0 }],
  updated_at: 99,
};

describe("parseAnalysis", () => {
  it("reads the server's analysis", () => {
    const parsed = parseAnalysis(analysis)!;
    expect(parsed.sections).toHaveLength(1);
    expect(parsed.sections[0]).toMatchObject({ label: "Verse 1", rhymeScheme: "AA" });
    expect(parsed.sections[0].lines[1]).toEqual({
      lineNumber: 2,
      text: "into the light",
      syllables: 4,
      stress: "1001",
      endWord: "light",
      rhyme: "A",
      rhymeKind: "perfect",
    });
    expect(parsed.rhymeDensity).toBe(1);
    expect(parsed.repeatedPhrases).toEqual([{ phrase: "all night", lines: [0, 1] }]);
    expect(parsed.cliches).toEqual([{ phrase: "all night long", line: 0 }]);
    expect(parsed.updatedAt).toBe(99);
  });

  it("is null without sections, and skips bad lines and sections", () => {
    expect(parseAnalysis(null)).toBeNull();
    expect(parseAnalysis({ sections: "many" })).toBeNull();
    const parsed = parseAnalysis({
      sections: [
        "junk",
        { lines: "x" },
        {
          label: 7,
          lines: [
            { line_number: -1, text: "a", syllables: 1, rhyme: "A" },
            { line_number: 0, text: "b", syllables: 1.5, rhyme: "A" },
            { line_number: 0, text: "c", syllables: 1, rhyme: "<script>" },
            { line_number: 3, text: "ok", syllables: 1, rhyme: "B", rhyme_kind: "great", stress: "abc" },
          ],
        },
      ],
      rhyme_density: 4,
      repeated_phrases: [{ phrase: "x", lines: [1, "2", -3] }, "junk"],
      cliches: [{ phrase: "y", line: "1" }],
    })!;
    expect(parsed.sections).toEqual([
      { label: null, rhymeScheme: "B", lines: [{ lineNumber: 3, text: "ok", syllables: 1, stress: "", endWord: "", rhyme: "B", rhymeKind: "none" }] },
    ]);
    expect(parsed.rhymeDensity).toBeNull();
    expect(parsed.repeatedPhrases).toEqual([{ phrase: "x", lines: [1] }]);
    expect(parsed.cliches).toEqual([]);
    expect(parsed.updatedAt).toBeNull();
  });

  it("reads lyrics_meta.analysis from the document", () => {
    const doc = new Y.Doc();
    expect(readLyricsAnalysis(doc)).toBeNull();
    lyricsMetaOf(doc).set("analysis", analysis);
    expect(readLyricsAnalysis(doc)?.sections[0].lines).toHaveLength(2);
  });
});

describe("actorUserId", () => {
  it("reads a person's actor, not a bot's or a service's", () => {
    const id = "0123456789abcdef0123456789abcdef";
    expect(actorUserId(`user:${id}`)).toBe(id);
    expect(actorUserId(id)).toBe(id);
    expect(actorUserId(`apikey:${id}`)).toBeNull();
    expect(actorUserId("service:jobs")).toBeNull();
    expect(actorUserId("user:nope")).toBeNull();
  });
});

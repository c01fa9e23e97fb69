import { describe, expect, it } from "vitest";
import { describeChanges } from "./versionChanges";

describe("describeChanges", () => {
  it("says when nothing changed", () => {
    expect(describeChanges({ identical: true })).toEqual(["No differences."]);
  });

  it("puts every part of the summary in words", () => {
    const names: Record<string, string> = { t1: "Drums", t2: "Bass" };
    const lines = describeChanges(
      {
        identical: false,
        meta: { bpm: [96, 120], key: [null, "A minor"] },
        tracks: { added: ["t1"], removed: ["gone"], changed: { t2: ["clips", "volume_db"] } },
        lyrics: { chars_removed: 1, chars_inserted: 12, old_length: 10, new_length: 21 },
        lyrics_meta: ["rhyme_scheme"],
        mix: ["preset"],
        coaching: { added: ["t1"] },
        comments: { added: 2, removed: 0, changed: 1 },
      },
      (id) => names[id] ?? null,
    );
    expect(lines).toEqual([
      "Song tempo: 96 → 120",
      "Song key: none → “A minor”",
      "Tracks added: 1 (Drums)",
      "Tracks removed: 1 (a track)",
      "Tracks changed: 1 — Bass (clips, volume)",
      "Lyrics changed: 12 characters added, 1 character removed",
      "Lyrics notes changed (rhyme_scheme)",
      "Mix settings changed (preset)",
      "Coaching changed on 1 track",
      "Comments: 2 added, 1 changed",
    ]);
  });

  it("skips what it cannot read", () => {
    expect(describeChanges(null)).toEqual([]);
    expect(describeChanges({ identical: false, tracks: "x", meta: [1], future: { a: 1 } })).toEqual(["Small changes only."]);
  });
});

import { describe, expect, it } from "vitest";
import type { MemoryItem } from "../api/types";
import { describeMemoryItem, groupMemory, readMemory, shortText } from "./memoryItems";

const item = (id: string, kind: MemoryItem["kind"], createdAt: number, patch: Partial<MemoryItem> = {}): MemoryItem => ({
  id,
  kind,
  text: `text ${id}`,
  verdict: "accepted",
  project_id: null,
  style: null,
  created_at: createdAt,
  ...patch,
});

describe("groupMemory", () => {
  it("groups by kind in a fixed order, newest first, leaving out empty kinds", () => {
    const groups = groupMemory([item("a", "master_preset", 1), item("b", "lyrics", 1), item("z", "lyrics", 1), item("c", "lyrics", 5)]);
    expect(groups.map((g) => [g.title, g.items.map((i) => i.id)])).toEqual([
      ["Lyrics", ["c", "b", "z"]],
      ["Master presets", ["a"]],
    ]);
  });
});

describe("describeMemoryItem", () => {
  it("says what was done, where and in which style", () => {
    const text = describeMemoryItem(item("a", "lyrics", 0, { verdict: "written", project_id: "p1", style: "folk" }), (id) => (id === "p1" ? "Night Drive" : null));
    expect(text.startsWith("You wrote · in Night Drive · style: folk · ")).toBe(true);
    expect(describeMemoryItem(item("b", "lyrics", 0, { project_id: "gone" }), () => null)).toContain("in a project you left");
  });
});

describe("shortText", () => {
  it("flattens and shortens", () => {
    expect(shortText("a\n  b")).toBe("a b");
    expect(shortText("x".repeat(50), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("readMemory", () => {
  it("keeps well-formed items only", () => {
    const memory = readMemory({
      embedding_model: { name: "wordllama", dimensions: 256 },
      style_version: "v3",
      items: [item("a", "lyrics", 1), { id: "b", kind: "poems", text: "x", created_at: 1 }, null, { id: 3 }],
    });
    expect(memory.items.map((i) => i.id)).toEqual(["a"]);
    expect(memory.embedding_model.dimensions).toBe(256);
    expect(readMemory(null)).toEqual({ embedding_model: { name: "unknown", dimensions: 0 }, style_version: "", items: [] });
  });
});

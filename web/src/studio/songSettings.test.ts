import { describe, expect, it } from "vitest";
import { checkBpm, checkKey, checkTimeSignature } from "./songSettings";

describe("song settings checks", () => {
  it("accepts tempos from 20 to 300", () => {
    expect(checkBpm("120")).toEqual({ ok: true, value: 120 });
    expect(checkBpm(" 92,5 ")).toEqual({ ok: true, value: 92.5 });
    expect(checkBpm("20").ok).toBe(true);
    expect(checkBpm("300").ok).toBe(true);
    expect(checkBpm("19.9").ok).toBe(false);
    expect(checkBpm("301").ok).toBe(false);
    expect(checkBpm("").ok).toBe(false);
    expect(checkBpm("fast").ok).toBe(false);
  });

  it("accepts time signatures the document accepts", () => {
    for (const ts of ["4/4", "3/4", "6/8", "7/8", "12/8", "5/4", "2/2", " 9 / 16 "]) expect(checkTimeSignature(ts).ok, ts).toBe(true);
    expect(checkTimeSignature(" 9 / 16 ")).toEqual({ ok: true, value: "9/16" });
    for (const ts of ["4", "0/4", "4/3", "4/0", "100/4", "a/b", "4/4/4", ""]) expect(checkTimeSignature(ts).ok, ts).toBe(false);
  });

  it("takes any short key, empty for none", () => {
    expect(checkKey("  A   minor ")).toEqual({ ok: true, value: "A minor" });
    expect(checkKey("")).toEqual({ ok: true, value: null });
    expect(checkKey("x".repeat(41)).ok).toBe(false);
  });
});

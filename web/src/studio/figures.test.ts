import { describe, expect, it } from "vitest";
import type { Job } from "../doc/model";
import { analysisJobOf, analysisSummary, formatDb, formatPan, formatTime, panText, signed } from "./figures";

const job = (fields: Partial<Job>): Job => ({
  id: "j",
  kind: "analysis",
  status: "done",
  progress: 1,
  params: {},
  requestedBy: "",
  result: null,
  error: null,
  createdAt: 0,
  updatedAt: 0,
  finishedAt: 0,
  ...fields,
});

describe("formatting", () => {
  it("uses a real minus and shows plus for gains", () => {
    expect(signed(-14.23)).toBe("\u221214.2");
    expect(signed(-0.01)).toBe("0.0");
    expect(formatDb(3)).toBe("+3.0 dB");
    expect(formatDb(0)).toBe("0.0 dB");
    expect(formatDb(-60)).toBe("\u2212∞ dB");
  });
  it("shows pan as L/C/R", () => {
    expect(formatPan(0)).toBe("C");
    expect(formatPan(0.004)).toBe("C");
    expect(formatPan(-0.3)).toBe("L30");
    expect(formatPan(1)).toBe("R100");
    expect(panText(-0.5)).toBe("50% left");
  });
  it("formats times", () => {
    expect(formatTime(0)).toBe("0:00");
    expect(formatTime(75.9)).toBe("1:15");
    expect(formatTime(3725)).toBe("1:02:05");
  });
});

describe("analysis", () => {
  const result = {
    asset_id: "a1",
    track_id: "t1",
    integrated_lufs: -14.24,
    tempo: { tempo_bpm: 91.8, confidence: 0.6, beats_per_bar: 4, beat_times_s: null },
    key: { name: "A minor", tonic: "A", mode: "minor" },
  };
  it("summarises tempo, key and loudness", () => {
    expect(analysisSummary(result)).toBe("92 BPM · A minor · \u221214.2 LUFS");
    expect(analysisSummary({ ...result, tempo: { tempo_bpm: 0 }, key: null, integrated_lufs: null })).toBe("silent");
  });
  it("finds the newest analysis of a track by track or asset id", () => {
    const jobs = [
      job({ id: "new", params: { asset_id: "a1" } }),
      job({ id: "old", params: { track_id: "t1", asset_id: "a1" } }),
      job({ id: "mix", kind: "mixing", params: { track_id: "t1" } }),
    ];
    expect(analysisJobOf(jobs, { id: "t1", assetId: "a1" })?.id).toBe("new");
    expect(analysisJobOf(jobs, { id: "t1", assetId: null })?.id).toBe("old");
    expect(analysisJobOf(jobs, { id: "t2", assetId: null })).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import type { Job, Mix } from "../doc/model";
import { coachingFigures, jobFigures, jobStatusText, outputAssetId } from "./jobFigures";

const job = (fields: Partial<Job>): Job => ({
  id: "j",
  kind: "mastering",
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
const noMix: Mix = {
  preset: null,
  renderAssetId: null,
  renderLoudnessLufs: null,
  renderTruePeakDbtp: null,
  masterAssetId: null,
  masterLoudnessLufs: null,
  masterTruePeakDbtp: null,
};

describe("job figures", () => {
  it("reads a master's output measurements and targets", () => {
    const master = job({
      result: {
        master_asset_id: "m1",
        target_lufs: -14,
        limiter_reduction_db: 2.25,
        settings: { ceiling_dbtp: -1 },
        output: { integrated_lufs: -14.04, true_peak_dbtp: -1.12, loudness_range_lu: 5.31 },
      },
    });
    expect(outputAssetId(master)).toBe("m1");
    expect(jobFigures(master, noMix)).toEqual([
      { label: "Loudness", value: "\u221214.0 LUFS (target \u221214.0)" },
      { label: "True peak", value: "\u22121.1 dBTP (ceiling \u22121.0)" },
      { label: "Loudness range", value: "5.3 LU" },
      { label: "Limiter", value: "2.3 dB reduction" },
    ]);
  });
  it("falls back to the mix map for the current master", () => {
    const master = job({ result: { master_asset_id: "m1" } });
    const figures = jobFigures(master, { ...noMix, masterAssetId: "m1", masterLoudnessLufs: -9, masterTruePeakDbtp: -1 });
    expect(figures[0].value).toBe("\u22129.0 LUFS");
  });
  it("reads a mix's render", () => {
    const mix = job({ kind: "mixing", result: { render_asset_id: "r1", preset: "pop", integrated_lufs: null, true_peak_dbtp: -3 } });
    expect(outputAssetId(mix)).toBe("r1");
    expect(jobFigures(mix)).toEqual([
      { label: "Loudness", value: "silent" },
      { label: "True peak", value: "\u22123.0 dBTP" },
    ]);
  });
  it("says the status in words", () => {
    expect(jobStatusText({ status: "running", progress: 0.4 })).toBe("Running, 40%");
    expect(jobStatusText({ status: "failed", progress: 0 })).toBe("Failed");
  });
  it("summarises coaching", () => {
    const figures = coachingFigures({ percent_in_tune: 72.4, median_abs_cents: 18.2, mean_cents: -6, mean_timing_offset_ms: 12, phrase_count: 3 });
    expect(figures).toContainEqual({ label: "Notes in tune", value: "72%" });
    expect(figures).toContainEqual({ label: "Average pitch", value: "\u22126 cents (flat)" });
    expect(figures).toContainEqual({ label: "Average timing", value: "+12 ms (behind)" });
    expect(figures).toContainEqual({ label: "Phrases", value: "3" });
  });
});

import { describe, expect, it } from "vitest";
import { formatParam, isLogParam, paramLabel, roundForDisplay, sliderToValue, SLIDER_STEPS, valueToSlider } from "./pluginCatalog";

const hz = { name: "cutoff_frequency_hz", unit: "Hz", min: 20, max: 20000 };
const db = { name: "gain_db", unit: "dB", min: -24, max: 24 };

describe("parameter sliders", () => {
  it("uses a log scale for wide frequency ranges only", () => {
    expect(isLogParam(hz)).toBe(true);
    expect(isLogParam(db)).toBe(false);
    expect(valueToSlider(hz, 20)).toBe(0);
    expect(valueToSlider(hz, 20000)).toBe(SLIDER_STEPS);
    expect(valueToSlider(hz, 632)).toBeCloseTo(SLIDER_STEPS / 2, -1);
  });
  it("round-trips values within display precision", () => {
    for (const v of [20, 80, 1200, 12000]) expect(sliderToValue(hz, valueToSlider(hz, v)) / v).toBeCloseTo(1, 1);
    expect(sliderToValue(db, SLIDER_STEPS / 2)).toBe(0);
    expect(sliderToValue(db, -5)).toBe(-24);
  });
  it("labels and formats", () => {
    expect(paramLabel(hz)).toBe("cutoff_frequency_hz (Hz)");
    expect(paramLabel({ name: "q", unit: "" })).toBe("q");
    expect(formatParam(hz, 12000)).toBe("12 kHz");
    expect(formatParam(db, -3.456)).toBe("-3.46 dB");
    expect(roundForDisplay(0.70711)).toBe(0.71);
  });
});

// The effect plugins the mixing engine applies (GET /api/v1/vst/plugins), fetched once
// per page, plus how a parameter maps to a slider (log scale for wide Hz ranges).
import type { ApiClient } from "../api/client";
import type { Plugin, PluginParam } from "../api/types";

let catalog: Promise<Plugin[]> | null = null;

export function pluginCatalog(api: ApiClient): Promise<Plugin[]> {
  if (!catalog) {
    catalog = api.get<{ items: Plugin[] }>("/api/v1/vst/plugins").then((page) => page.items);
    catalog.catch(() => {
      catalog = null;
    });
  }
  return catalog;
}

/** Slider positions per parameter (the input's own range is 0..SLIDER_STEPS). */
export const SLIDER_STEPS = 1000;

/** Whether a parameter is best moved on a logarithmic scale (20 Hz..20 kHz and such). */
export function isLogParam(param: Pick<PluginParam, "min" | "max">): boolean {
  return param.min > 0 && param.max / param.min >= 100;
}

export function valueToSlider(param: Pick<PluginParam, "min" | "max">, value: number): number {
  const v = Math.min(param.max, Math.max(param.min, value));
  if (param.max === param.min) return 0;
  const t = isLogParam(param)
    ? Math.log(v / param.min) / Math.log(param.max / param.min)
    : (v - param.min) / (param.max - param.min);
  return Math.round(t * SLIDER_STEPS);
}

export function sliderToValue(param: Pick<PluginParam, "min" | "max">, position: number): number {
  const t = Math.min(1, Math.max(0, position / SLIDER_STEPS));
  const raw = isLogParam(param)
    ? param.min * Math.pow(param.max / param.min, t)
    : param.min + t * (param.max - param.min);
  return roundForDisplay(raw);
}

/** Three significant figures, at most two decimals: what a person can set and read. */
export function roundForDisplay(value: number): number {
  if (value === 0) return 0;
  const digits = Math.max(0, Math.min(2, 2 - Math.floor(Math.log10(Math.abs(value)))));
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function formatParam(param: Pick<PluginParam, "unit">, value: number): string {
  const shown = Math.abs(value) >= 1000 && param.unit === "Hz" ? `${roundForDisplay(value / 1000)} k` : `${roundForDisplay(value)} `;
  return `${shown}${param.unit}`.trim();
}

export function paramLabel(param: Pick<PluginParam, "name" | "unit">): string {
  return param.unit ? `${param.name} (${param.unit})` : param.name;
}

export function defaultParams(plugin: Plugin): Record<string, number> {
  return Object.fromEntries(plugin.params.map((p) => [p.name, p.default]));
}

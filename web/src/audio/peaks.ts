// Waveform peaks for the timeline: one shared loader per asset. Until the asset's
// analysis has run the server answers 409/404; the loader retries while anyone
// still shows the asset, so clips turn from "analysing…" into waveforms by themselves.
import { useSyncExternalStore } from "react";
import type { ApiClient } from "../api/client";
import { ApiError } from "../api/client";
import { assetInfo, assetWaveformMixed } from "../api/assets";

export interface Peaks {
  min: Float32Array;
  max: Float32Array;
  /** The asset's length in seconds. */
  durationS: number;
  /** The loudest absolute sample (0..1), to draw quiet takes readably. */
  peak: number;
}

export type PeaksStatus = "loading" | "analysing" | "ready" | "error";

export interface PeaksState {
  status: PeaksStatus;
  peaks: Peaks | null;
}

/** Points asked for per asset: detailed enough for a few minutes at normal zoom, ~100 KB of JSON. */
export const PEAK_POINTS = 8000;
const RETRY_PENDING_MS = 4000;
const RETRY_ERROR_MS = 15000;

interface Entry {
  state: PeaksState;
  listeners: Set<() => void>;
  timer: ReturnType<typeof setTimeout> | null;
  inFlight: boolean;
}

const entries = new Map<string, Entry>();
const LOADING: PeaksState = { status: "loading", peaks: null };

/** Rows of numbers from either shape the API may use ([point] or [channel][point]). */
function rows(values: unknown): number[][] {
  if (!Array.isArray(values) || values.length === 0) return [[]];
  return Array.isArray(values[0]) ? (values as number[][]) : [values as number[]];
}

/** The envelope of every channel as one row of minima and one of maxima. */
export function toPeaks(waveform: { min: unknown; max: unknown; duration_s: number }): Peaks {
  const lows = rows(waveform.min);
  const highs = rows(waveform.max);
  const min = Float32Array.from(lows[0]);
  const max = Float32Array.from(highs[0]);
  for (const other of lows.slice(1)) other.forEach((v, i) => (min[i] = Math.min(min[i], v)));
  for (const other of highs.slice(1)) other.forEach((v, i) => (max[i] = Math.max(max[i], v)));
  let peak = 0;
  for (let i = 0; i < min.length; i++) peak = Math.max(peak, -min[i], max[i] ?? 0);
  return { min, max, durationS: waveform.duration_s, peak };
}

function set(entry: Entry, state: PeaksState): void {
  entry.state = state;
  for (const listener of [...entry.listeners]) listener();
}

function load(api: ApiClient, assetId: string, entry: Entry): void {
  if (entry.inFlight || entry.state.status === "ready") return;
  entry.inFlight = true;
  assetWaveformMixed(api, assetId, PEAK_POINTS).then(
    (waveform) => {
      entry.inFlight = false;
      set(entry, { status: "ready", peaks: toPeaks(waveform) });
    },
    (err: unknown) => {
      entry.inFlight = false;
      const pending = err instanceof ApiError && (err.status === 409 || err.status === 404);
      if (entry.state.status !== (pending ? "analysing" : "error")) set(entry, { status: pending ? "analysing" : "error", peaks: null });
      if (entry.listeners.size > 0 && entry.timer === null) {
        entry.timer = setTimeout(
          () => {
            entry.timer = null;
            if (entry.listeners.size > 0) load(api, assetId, entry);
          },
          pending ? RETRY_PENDING_MS : RETRY_ERROR_MS,
        );
      }
    },
  );
}

function entryFor(assetId: string): Entry {
  let entry = entries.get(assetId);
  if (!entry) {
    entry = { state: LOADING, listeners: new Set(), timer: null, inFlight: false };
    entries.set(assetId, entry);
  }
  return entry;
}

/** Follow an asset's peaks; returns the unsubscribe function. */
export function watchPeaks(api: ApiClient, assetId: string, listener: () => void): () => void {
  const entry = entryFor(assetId);
  entry.listeners.add(listener);
  load(api, assetId, entry);
  return () => {
    entry.listeners.delete(listener);
    if (entry.listeners.size === 0 && entry.timer !== null) {
      clearTimeout(entry.timer);
      entry.timer = null;
    }
  };
}

export const peaksState = (assetId: string): PeaksState => entries.get(assetId)?.state ?? LOADING;

export function usePeaks(api: ApiClient, assetId: string): PeaksState {
  return useSyncExternalStore(
    (notify) => watchPeaks(api, assetId, notify),
    () => peaksState(assetId),
  );
}

const durations = new Map<string, Promise<number | null>>();

/** The asset's length (from its peaks when loaded, else its record), or null when unknown. */
export function assetDuration(api: ApiClient, assetId: string): Promise<number | null> {
  const known = peaksState(assetId).peaks?.durationS;
  if (known) return Promise.resolve(known);
  let pending = durations.get(assetId);
  if (!pending) {
    pending = assetInfo(api, assetId).then(
      (asset) => asset.duration_s,
      () => {
        durations.delete(assetId);
        return null;
      },
    );
    durations.set(assetId, pending);
  }
  return pending;
}

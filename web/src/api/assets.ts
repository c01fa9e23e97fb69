// Assets (uploaded audio, renders, masters, pitch pictures): bytes and waveform peaks,
// fetched with the caller's token and kept in memory; the service worker keeps them
// on disk for offline use (vite.config.ts, "jacameno-audio").
import type { ApiClient } from "./client";
import { ApiClient as Client } from "./client";
import type { Asset, Waveform } from "./types";

const bytesCache = new Map<string, Promise<ArrayBuffer>>();
const waveformCache = new Map<string, Promise<Waveform>>();

async function authorisedGet(api: ApiClient, path: string): Promise<Response> {
  const token = await api.freshToken();
  let response: Response;
  try {
    response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch {
    response = new Response(null, { status: 599, statusText: "The server cannot be reached." });
  }
  if (response.status === 401 && api.sessions.get()) {
    const renewed = await api.refresh().catch(() => null);
    if (renewed) response = await fetch(path, { headers: { Authorization: `Bearer ${renewed.accessToken}` } });
  }
  return response;
}

/** The asset's bytes (audio or SVG); one download per asset per page. */
export function assetBytes(api: ApiClient, assetId: string): Promise<ArrayBuffer> {
  let pending = bytesCache.get(assetId);
  if (!pending) {
    pending = authorisedGet(api, `/api/v1/assets/${assetId}/content`).then(async (response) => {
      if (!response.ok) await Client.read(response);
      return response.arrayBuffer();
    });
    pending.catch(() => bytesCache.delete(assetId));
    bytesCache.set(assetId, pending);
  }
  return pending;
}

/** Min/max peaks of an analysed asset (404 until its analysis has run). */
export function assetWaveform(api: ApiClient, assetId: string): Promise<Waveform> {
  let pending = waveformCache.get(assetId);
  if (!pending) {
    pending = authorisedGet(api, `/api/v1/assets/${assetId}/waveform`).then((r) => Client.read<Waveform>(r));
    pending.catch(() => waveformCache.delete(assetId));
    waveformCache.set(assetId, pending);
  }
  return pending;
}

export function assetInfo(api: ApiClient, assetId: string): Promise<Asset> {
  return api.get<Asset>(`/api/v1/assets/${assetId}`);
}

/** A blob: URL for playing or downloading an asset in an <audio> or <a download>. */
export async function assetObjectUrl(api: ApiClient, assetId: string, type = "audio/wav"): Promise<string> {
  const bytes = await assetBytes(api, assetId);
  return URL.createObjectURL(new Blob([bytes], { type }));
}

const mixedWaveformCache = new Map<string, Promise<Waveform>>();

/** Peaks of every channel merged into one row, `points` points for the whole asset (409/404 until analysed). */
export function assetWaveformMixed(api: ApiClient, assetId: string, points: number): Promise<Waveform> {
  const key = `${assetId}:${points}`;
  let pending = mixedWaveformCache.get(key);
  if (!pending) {
    pending = authorisedGet(api, `/api/v1/assets/${assetId}/waveform?points=${points}&mix=true`).then((r) => Client.read<Waveform>(r));
    pending.catch(() => mixedWaveformCache.delete(key));
    mixedWaveformCache.set(key, pending);
  }
  return pending;
}

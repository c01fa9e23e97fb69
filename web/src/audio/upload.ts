// Uploading audio as new tracks: a client-side check of the file, the multipart POST
// through XMLHttpRequest (fetch reports no upload progress), and one queue per page
// shared by the upload button and the arrangement's drop zone.
//
// The server (api/routes/tracks.py) accepts a file by its content: WAV (also WAVEX and
// RF64), FLAC, OGG (Vorbis, Opus) or MP3. It adds the track with a clip spanning the
// file to the document at once and queues its analysis job.
import { useSyncExternalStore } from "react";
import { ApiError, type ApiClient } from "../api/client";
import type { TrackUploadOut } from "../api/types";
import type { TrackKind } from "../doc/model";

/** File name endings the server reads (by content; the ending is only our first guess). */
export const ACCEPTED_EXTENSIONS = [".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3"] as const;
export const ACCEPTED_TYPES = [
  "audio/wav",
  "audio/x-wav",
  "audio/wave",
  "audio/vnd.wave",
  "audio/flac",
  "audio/x-flac",
  "audio/ogg",
  "audio/opus",
  "audio/mpeg",
  "audio/mp3",
] as const;
/** The `accept` attribute of the file picker. */
export const ACCEPT_ATTRIBUTE = [...ACCEPTED_EXTENSIONS, ...ACCEPTED_TYPES].join(",");
/** Formats people often try that the server refuses, with the reason in their words. */
const REFUSED_FORMATS: Record<string, string> = {
  ".aif": "AIFF",
  ".aiff": "AIFF",
  ".aifc": "AIFF",
  ".m4a": "M4A/AAC",
  ".aac": "AAC",
  ".mp4": "MP4",
  ".wma": "WMA",
  ".alac": "ALAC",
  ".caf": "CAF",
};
const ACCEPTED_LIST = "WAV, FLAC, OGG or MP3";
/** Longest track name the server takes (MAX_NAME_CHARS). */
export const MAX_NAME_CHARS = 200;

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  return dot > 0 ? fileName.slice(dot).toLowerCase() : "";
}

/** Why the server would refuse this file, or null when it is worth sending. */
export function refusalReason(file: { name: string; type: string; size: number }): string | null {
  if (file.size === 0) return `${file.name} is empty.`;
  const ext = extensionOf(file.name);
  const type = file.type.toLowerCase().split(";")[0];
  if ((ACCEPTED_EXTENSIONS as readonly string[]).includes(ext)) return null;
  const refused = REFUSED_FORMATS[ext];
  if (refused) return `${file.name}: ${refused} is not accepted. Convert it to ${ACCEPTED_LIST}.`;
  if ((ACCEPTED_TYPES as readonly string[]).includes(type)) return null;
  if (type.startsWith("audio/")) {
    return `${file.name}: this audio format (${type}) is not accepted. Send ${ACCEPTED_LIST}.`;
  }
  return `${file.name} is not an audio file we can read. Send ${ACCEPTED_LIST}.`;
}

/** The track name for a file: its name without the extension, trimmed to the server's limit. */
export function trackNameFor(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  const base = (dot > 0 ? fileName.slice(0, dot) : fileName).replace(/[_]+/g, " ").trim();
  return (base || "Audio").slice(0, MAX_NAME_CHARS);
}

/** "vocal" when the name suggests a sung or spoken take, else "audio". */
export function trackKindFor(fileName: string): TrackKind {
  return /(^|[^a-z])(vox|vocals?|voice|lead ?vocal|singing|sing|acapella|a capella|rap|choir|bvs?)([^a-z]|$)/i.test(
    trackNameFor(fileName),
  )
    ? "vocal"
    : "audio";
}

/** The API's error envelope from an XHR answer, as the ApiError the rest of the client uses. */
export function uploadError(status: number, responseText: string, statusText = ""): ApiError {
  if (status === 0) return new ApiError(0, "offline", "The server cannot be reached. Check your connection and try again.");
  let code = `http_${status}`;
  let message = "";
  let details: unknown = null;
  try {
    const body = JSON.parse(responseText) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? "";
      details = body.error.details ?? null;
    }
  } catch {
    // Not our envelope (a proxy's page): describe the status below.
  }
  if (!message) {
    message =
      status === 413
        ? "The file is too large for the server."
        : status === 415
          ? `The file is not audio the server can read. Send ${ACCEPTED_LIST}.`
          : status === 429
            ? "Too many uploads or jobs right now. Try again in a minute."
            : statusText || `The server answered ${status}.`;
  }
  // Sentence case for the server's lower-case messages.
  message = message.charAt(0).toUpperCase() + message.slice(1);
  return new ApiError(status, code, message, details);
}

export interface UploadRequest {
  projectId: string;
  file: File;
  name: string;
  kind: TrackKind;
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
}

function sendOnce(request: UploadRequest, token: string | null): Promise<{ status: number; text: string; statusText: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const query = `?project_id=${encodeURIComponent(request.projectId)}`;
    xhr.open("POST", `/api/v1/tracks/upload${query}`);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) request.onProgress?.(event.loaded, event.total);
    };
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, statusText: xhr.statusText });
    xhr.onerror = () => resolve({ status: 0, text: "", statusText: "" });
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    const abort = () => xhr.abort();
    if (request.signal?.aborted) {
      reject(new DOMException("The upload was cancelled.", "AbortError"));
      return;
    }
    request.signal?.addEventListener("abort", abort, { once: true });
    const form = new FormData();
    form.append("project_id", request.projectId);
    form.append("name", request.name);
    form.append("kind", request.kind);
    form.append("file", request.file, request.file.name);
    xhr.send(form);
  });
}

/** Upload one file; resolves with the new track, rejects with ApiError (or AbortError). */
export async function uploadTrack(api: ApiClient, request: UploadRequest): Promise<TrackUploadOut> {
  let answer = await sendOnce(request, await api.freshToken());
  if (answer.status === 401 && api.sessions.get()) {
    const renewed = await api.refresh().catch(() => null);
    if (renewed) {
      request.onProgress?.(0, request.file.size);
      answer = await sendOnce(request, renewed.accessToken);
    }
  }
  if (answer.status >= 200 && answer.status < 300) return JSON.parse(answer.text) as TrackUploadOut;
  throw uploadError(answer.status, answer.text, answer.statusText);
}

// ---------------------------------------------------------------- the queue

export type UploadStatus = "waiting" | "uploading" | "processing" | "done" | "failed" | "refused" | "cancelled";

export interface UploadItem {
  id: number;
  fileName: string;
  sizeBytes: number;
  loadedBytes: number;
  status: UploadStatus;
  /** Why it failed or was refused, in words for the user. */
  error: string | null;
  trackId: string | null;
}

/** Uploads running at once; the rest wait their turn (the server rate-limits per caller). */
const PARALLEL_UPLOADS = 2;
/** A finished upload leaves the list after this long (ms); failures stay until dismissed. */
const DONE_LINGER_MS = 4000;

interface Pending {
  api: ApiClient;
  projectId: string;
  file: File;
  controller: AbortController;
}

/** Upload state for the page: a tiny external store (subscribe + snapshot) for React. */
export class UploadQueue {
  private items: UploadItem[] = [];
  private pending = new Map<number, Pending>();
  private listeners = new Set<() => void>();
  private nextId = 1;
  private running = 0;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): UploadItem[] => this.items;

  /** Check and queue `files` for `projectId`; refused files are listed with the reason. */
  add(api: ApiClient, projectId: string, files: Iterable<File>): UploadItem[] {
    const added: UploadItem[] = [];
    for (const file of files) {
      const reason = refusalReason(file);
      const item: UploadItem = {
        id: this.nextId++,
        fileName: file.name,
        sizeBytes: file.size,
        loadedBytes: 0,
        status: reason ? "refused" : "waiting",
        error: reason,
        trackId: null,
      };
      if (!reason) this.pending.set(item.id, { api, projectId, file, controller: new AbortController() });
      added.push(item);
    }
    if (added.length) {
      this.items = [...this.items, ...added];
      this.emit();
      this.pump();
    }
    return added;
  }

  cancel(id: number): void {
    const pending = this.pending.get(id);
    if (pending) pending.controller.abort();
    const item = this.items.find((i) => i.id === id);
    if (item && (item.status === "waiting" || item.status === "uploading")) {
      this.pending.delete(id);
      this.update(id, { status: "cancelled", error: null });
    }
  }

  dismiss(id: number): void {
    this.cancel(id);
    this.items = this.items.filter((i) => i.id !== id);
    this.emit();
  }

  private pump(): void {
    while (this.running < PARALLEL_UPLOADS) {
      const next = this.items.find((i) => i.status === "waiting" && this.pending.has(i.id));
      if (!next) return;
      void this.run(next.id);
    }
  }

  private async run(id: number): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.running++;
    this.update(id, { status: "uploading" });
    try {
      const out = await uploadTrack(pending.api, {
        projectId: pending.projectId,
        file: pending.file,
        name: trackNameFor(pending.file.name),
        kind: trackKindFor(pending.file.name),
        signal: pending.controller.signal,
        onProgress: (loaded, total) =>
          this.update(id, { loadedBytes: loaded, sizeBytes: total, status: loaded >= total ? "processing" : "uploading" }),
      });
      this.update(id, { status: "done", loadedBytes: pending.file.size, trackId: out.track_id });
      setTimeout(() => {
        if (this.items.find((i) => i.id === id)?.status === "done") this.dismiss(id);
      }, DONE_LINGER_MS);
    } catch (error) {
      if ((error as Error)?.name === "AbortError") {
        this.update(id, { status: "cancelled", error: null });
      } else {
        this.update(id, { status: "failed", error: (error as Error)?.message ?? "The upload failed." });
      }
    } finally {
      this.pending.delete(id);
      this.running--;
      this.pump();
    }
  }

  private update(id: number, fields: Partial<UploadItem>): void {
    let changed = false;
    this.items = this.items.map((item) => {
      if (item.id !== id) return item;
      changed = true;
      return { ...item, ...fields };
    });
    if (changed) this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The page's upload queue, shared by the upload button and the drop zone. */
export const uploads = new UploadQueue();

export function useUploads(queue: UploadQueue = uploads): UploadItem[] {
  return useSyncExternalStore(queue.subscribe, queue.snapshot);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

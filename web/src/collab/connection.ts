// One project's live document: Y.Doc + IndexedDB (offline copy) + y-websocket
// (the server), with the sync state the indicator shows and the server's refusals
// turned into messages instead of silent reconnect loops.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { IndexeddbPersistence } from "y-indexeddb";
import { readAuthMessage } from "y-protocols/auth";
import type { Awareness } from "y-protocols/awareness";
import type * as decoding from "lib0/decoding";
import { ApiError, type ApiClient } from "../api/client";
import { closeMeaning, MAX_REPEATED_WARNINGS } from "./closeCodes";
import { initialSyncState, reduceSync, type SyncEvent, type SyncState } from "./status";

/** What every peer sees of this tab in awareness (`user` is y-codemirror.next's field). */
export interface PresenceUser {
  name: string;
  color: string;
  colorLight: string;
  /** People and bots are told apart in the presence list. */
  kind: "person" | "bot";
  id: string;
}

const MESSAGE_AUTH = 2;
/** Ask the REST API why an upgrade failed at most this often (ms). */
const PROBE_INTERVAL_MS = 4000;

const pendingKey = (projectId: string) => `jacameno.pending.${projectId}`;

export function collabUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/collab`;
}

export class ProjectConnection {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly persistence: IndexeddbPersistence;
  readonly awareness: Awareness;
  /** Resolves once the offline copy is loaded (the studio can render from it). */
  readonly whenLocalLoaded: Promise<void>;
  private state: SyncState;
  private readonly listeners = new Set<(state: SyncState) => void>();
  private readonly cleanups: Array<() => void> = [];
  private opened = false;
  private lastProbe = 0;
  private lastWarning: number | null = null;
  private warnings = 0;
  private destroyed = false;

  constructor(
    readonly projectId: string,
    private readonly api: ApiClient,
    user: PresenceUser,
    serverUrl: string = collabUrl(),
  ) {
    this.doc = new Y.Doc();
    const stored = Number(window.localStorage.getItem(pendingKey(projectId)) ?? "0");
    this.state = initialSyncState(Number.isFinite(stored) ? stored : 0, navigator.onLine);
    this.persistence = new IndexeddbPersistence(`jacameno.${projectId}`, this.doc);
    this.whenLocalLoaded = this.persistence.whenSynced.then(() => undefined);
    this.provider = new WebsocketProvider(serverUrl, projectId, this.doc, {
      connect: false,
      params: { token: api.sessions.get()?.accessToken ?? "" },
      // Tabs sync through the server, which checks every writer's rights.
      disableBc: true,
      maxBackoffTime: 10_000,
      shouldReconnect: (event: CloseEvent) => this.shouldReconnect(event),
    });
    this.awareness = this.provider.awareness;
    this.awareness.setLocalStateField("user", user);
    this.provider.messageHandlers[MESSAGE_AUTH] = (
      _encoder: unknown,
      decoder: decoding.Decoder,
      provider: WebsocketProvider,
    ) => {
      readAuthMessage(decoder, provider.doc, () => this.dispatch({ type: "read-only" }));
    };
    this.wire();
  }

  /** Connect once the access token is fresh (a stale one would be refused). */
  async start(): Promise<void> {
    if (this.destroyed) return;
    const token = await this.api.freshToken().catch(() => null);
    if (this.destroyed) return;
    if (!token) {
      this.dispatch({ type: "needs-sign-in" });
      return;
    }
    this.provider.params = { token };
    if (navigator.onLine) this.provider.connect();
  }

  /** After a new sign-in: reconnect with the new token. */
  async resume(): Promise<void> {
    this.dispatch({ type: "signed-in" });
    this.warnings = 0;
    await this.start();
  }

  getState(): SyncState {
    return this.state;
  }

  subscribe(listener: (state: SyncState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  destroy(): void {
    this.destroyed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.provider.destroy();
    void this.persistence.destroy();
    this.doc.destroy();
    this.listeners.clear();
  }

  private dispatch(event: SyncEvent): void {
    const next = reduceSync(this.state, event);
    if (next === this.state) return;
    if (next.pending !== this.state.pending) {
      window.localStorage.setItem(pendingKey(this.projectId), String(next.pending));
    }
    this.state = next;
    for (const listener of this.listeners) listener(next);
  }

  private wire(): void {
    const provider = this.provider;
    provider.on("status", ({ status }: { status: string }) => {
      if (status === "connected") {
        this.opened = true;
        this.dispatch({ type: "connected" });
      } else if (status === "connecting") {
        this.opened = false;
        this.dispatch({ type: "connecting" });
      } else {
        this.dispatch({ type: "disconnected" });
      }
    });
    provider.on("sync", (synced: boolean) => {
      if (synced) {
        this.warnings = 0;
        this.lastWarning = null;
        this.dispatch({ type: "synced" });
      }
    });
    provider.on("connection-close", (event: CloseEvent | null) => {
      if (event && !this.opened) void this.probeRefusal();
    });
    provider.on("closed", ({ code }: { code: number }) => void this.afterTerminalClose(code));

    const onUpdate = (_update: Uint8Array, origin: unknown) => {
      if (origin !== provider && origin !== this.persistence) this.dispatch({ type: "local-change" });
    };
    this.doc.on("update", onUpdate);
    this.cleanups.push(() => this.doc.off("update", onUpdate));

    const online = () => {
      this.dispatch({ type: "online" });
      if (!this.state.needsSignIn && this.state.phase !== "stopped") void this.start();
    };
    const offline = () => this.dispatch({ type: "offline" });
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    this.cleanups.push(() => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
    });

    // A refreshed access token is used by the next (re)connect.
    this.cleanups.push(
      this.api.sessions.subscribe((session) => {
        if (session) this.provider.params = { token: session.accessToken };
      }),
    );
  }

  private shouldReconnect(event: CloseEvent): boolean {
    const meaning = closeMeaning(event.code);
    if (meaning.action === "reconnect") return true;
    if (meaning.action === "warn") {
      this.warnings = this.lastWarning === event.code ? this.warnings + 1 : 1;
      this.lastWarning = event.code;
      this.dispatch({ type: "problem", message: meaning.message });
      return this.warnings < MAX_REPEATED_WARNINGS;
    }
    // "refresh" and "stop" are handled once the socket is closed (afterTerminalClose).
    return false;
  }

  private async afterTerminalClose(code: number): Promise<void> {
    const meaning = closeMeaning(code);
    if (meaning.action === "refresh") {
      const session = await this.api.refresh().catch((error: unknown) => {
        if (error instanceof ApiError && error.offline) return undefined;
        return null;
      });
      if (session === undefined) {
        this.dispatch({ type: "offline" });
      } else if (session === null) {
        this.dispatch({ type: "needs-sign-in" });
      } else {
        this.provider.params = { token: session.accessToken };
        this.provider.connect();
      }
      return;
    }
    this.dispatch({ type: "stopped", message: meaning.message ?? "Disconnected by the server." });
  }

  /**
   * The server refuses an upgrade with an HTTP status the browser hides (the socket
   * just fails), so ask the REST API, with the same token, what it thinks.
   */
  private async probeRefusal(): Promise<void> {
    if (!navigator.onLine) {
      this.dispatch({ type: "offline" });
      return;
    }
    const now = Date.now();
    if (now - this.lastProbe < PROBE_INTERVAL_MS) return;
    this.lastProbe = now;
    try {
      await this.api.get(`/api/v1/projects/${this.projectId}`);
    } catch (error) {
      if (!(error instanceof ApiError)) return;
      if (error.status === 401 || !this.api.sessions.get()) {
        this.provider.disconnect();
        this.dispatch({ type: "needs-sign-in" });
      } else if (error.status === 403 || error.status === 404) {
        this.provider.disconnect();
        this.dispatch({
          type: "stopped",
          message: error.status === 403 ? "You do not have access to this project." : "This project does not exist, or you are not a member.",
        });
      } else if (error.status === 429) {
        this.dispatch({ type: "problem", message: "Too many connection attempts; retrying shortly." });
      } else if (error.offline) {
        this.dispatch({ type: "problem", message: "The server cannot be reached; retrying." });
      }
    }
  }
}

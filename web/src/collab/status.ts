// The sync indicator's state: offline / connecting / syncing / synced, and how many
// local changes have not reached the server yet. Pure, so it is unit-tested.

export type SyncPhase = "offline" | "connecting" | "syncing" | "synced" | "stopped";

export interface SyncState {
  phase: SyncPhase;
  /** Local changes made since the server last confirmed a full sync. */
  pending: number;
  /** A message for the user, or null. */
  problem: string | null;
  /** The server refused writes from this connection (viewer). */
  readOnly: boolean;
  /** The session ended; the user must sign in again (edits are kept). */
  needsSignIn: boolean;
}

export type SyncEvent =
  | { type: "online" }
  | { type: "offline" }
  | { type: "connecting" }
  | { type: "connected" }
  | { type: "synced" }
  | { type: "disconnected" }
  | { type: "local-change" }
  | { type: "problem"; message: string | null }
  | { type: "stopped"; message: string }
  | { type: "read-only" }
  | { type: "needs-sign-in" }
  | { type: "signed-in" };

export const initialSyncState = (pending = 0, online = true): SyncState => ({
  phase: online ? "connecting" : "offline",
  pending,
  problem: null,
  readOnly: false,
  needsSignIn: false,
});

export function reduceSync(state: SyncState, event: SyncEvent): SyncState {
  switch (event.type) {
    case "online":
      return state.phase === "offline" ? { ...state, phase: "connecting" } : state;
    case "offline":
      return state.phase === "stopped" ? state : { ...state, phase: "offline" };
    case "connecting":
      return state.phase === "stopped" || state.phase === "offline" ? state : { ...state, phase: "connecting" };
    case "connected":
      return state.phase === "stopped" ? state : { ...state, phase: "syncing" };
    case "synced":
      // The handshake sent the server every local change it was missing.
      return state.phase === "stopped" ? state : { ...state, phase: "synced", pending: 0, problem: null };
    case "disconnected":
      if (state.phase === "stopped" || state.phase === "offline") return state;
      return { ...state, phase: "connecting" };
    case "local-change":
      // While synced, a change goes out at once; otherwise it waits for the next sync.
      return state.phase === "synced" ? state : { ...state, pending: state.pending + 1 };
    case "problem":
      return { ...state, problem: event.message };
    case "stopped":
      return { ...state, phase: "stopped", problem: event.message };
    case "read-only":
      return { ...state, readOnly: true };
    case "needs-sign-in":
      return { ...state, phase: "stopped", needsSignIn: true, problem: "Your session ended. Sign in again; your edits are kept on this device." };
    case "signed-in":
      return { ...state, phase: "connecting", needsSignIn: false, problem: null };
  }
}

/** The indicator's words; colour is never the only signal. */
export function describeSync(state: SyncState): string {
  const waiting = state.pending > 0 ? ` · ${state.pending} change${state.pending === 1 ? "" : "s"} waiting` : "";
  switch (state.phase) {
    case "offline":
      return `Offline${waiting}`;
    case "connecting":
      return `Connecting${waiting}`;
    case "syncing":
      return `Syncing${waiting}`;
    case "synced":
      return "Synced";
    case "stopped":
      return `Not connected${waiting}`;
  }
}

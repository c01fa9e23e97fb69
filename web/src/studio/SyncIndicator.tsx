import { useSyncExternalStore } from "react";
import { describeSync } from "../collab/status";
import type { ProjectConnection } from "../collab/connection";

const ICON: Record<string, string> = { offline: "⨯", connecting: "…", syncing: "⟳", synced: "✓", stopped: "!" };

export function useSyncState(connection: ProjectConnection) {
  return useSyncExternalStore(
    (notify) => connection.subscribe(notify),
    () => connection.getState(),
  );
}

/** Offline / syncing / synced and how many local changes wait; words, not only colour. */
export function SyncIndicator({ connection }: { connection: ProjectConnection }) {
  const state = useSyncState(connection);
  return (
    <div className={`sync sync-${state.phase}`} role="status" aria-live="polite" aria-label="Sync status">
      <span aria-hidden="true">{ICON[state.phase]}</span> {describeSync(state)}
    </div>
  );
}

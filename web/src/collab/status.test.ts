import { describe, expect, it } from "vitest";
import { describeSync, initialSyncState, reduceSync, type SyncEvent, type SyncState } from "./status";

const run = (state: SyncState, ...events: SyncEvent[]): SyncState => events.reduce(reduceSync, state);
const change: SyncEvent = { type: "local-change" };

describe("reduceSync", () => {
  it("starts connecting online and offline without a network, keeping stored pending changes", () => {
    expect(initialSyncState()).toEqual({ phase: "connecting", pending: 0, problem: null, readOnly: false, needsSignIn: false });
    expect(initialSyncState(3, false)).toMatchObject({ phase: "offline", pending: 3 });
  });

  it("goes connecting -> syncing -> synced", () => {
    const state = run(initialSyncState(), { type: "connected" }, { type: "synced" });
    expect(state.phase).toBe("synced");
    expect(describeSync(state)).toBe("Synced");
  });

  it("counts offline edits and resets the count on the next sync", () => {
    let state = run(initialSyncState(), { type: "connected" }, { type: "synced" }, { type: "offline" });
    state = run(state, change, change, change);
    expect(state).toMatchObject({ phase: "offline", pending: 3 });
    expect(describeSync(state)).toBe("Offline · 3 changes waiting");
    state = run(state, { type: "online" });
    expect(state.phase).toBe("connecting");
    state = run(state, { type: "connected" }, change);
    expect(state).toMatchObject({ phase: "syncing", pending: 4 });
    expect(describeSync(state)).toBe("Syncing · 4 changes waiting");
    state = run(state, { type: "synced" });
    expect(state).toMatchObject({ phase: "synced", pending: 0, problem: null });
  });

  it("does not count changes made while synced (they go out at once)", () => {
    const state = run(initialSyncState(), { type: "connected" }, { type: "synced" }, change, change);
    expect(state.pending).toBe(0);
  });

  it("says 'change' for one and 'changes' for more", () => {
    expect(describeSync(run(initialSyncState(0, false), change))).toBe("Offline · 1 change waiting");
    expect(describeSync(run(initialSyncState(0, true), change, change))).toBe("Connecting · 2 changes waiting");
  });

  it("a synced connection that drops goes back to connecting, an offline one stays offline", () => {
    expect(run(initialSyncState(), { type: "connected" }, { type: "synced" }, { type: "disconnected" }).phase).toBe("connecting");
    expect(run(initialSyncState(0, false), { type: "disconnected" }).phase).toBe("offline");
    expect(run(initialSyncState(0, false), { type: "connecting" }).phase).toBe("offline");
    // "online" only matters when offline.
    const synced = run(initialSyncState(), { type: "connected" }, { type: "synced" });
    expect(reduceSync(synced, { type: "online" })).toBe(synced);
  });

  it("stopped stays stopped whatever the socket or network does", () => {
    let state = run(initialSyncState(), { type: "connected" }, { type: "stopped", message: "You do not have access to this project." });
    expect(state).toMatchObject({ phase: "stopped", problem: "You do not have access to this project." });
    for (const event of ["online", "offline", "connecting", "connected", "synced", "disconnected"] as const) {
      state = reduceSync(state, { type: event });
      expect(state.phase, event).toBe("stopped");
    }
    state = run(state, change);
    expect(state.pending).toBe(1);
    expect(describeSync(state)).toBe("Not connected · 1 change waiting");
  });

  it("needs-sign-in stops with a message and keeps edits; signing in reconnects", () => {
    let state = run(initialSyncState(), change, { type: "needs-sign-in" });
    expect(state).toMatchObject({ phase: "stopped", needsSignIn: true, pending: 1 });
    expect(state.problem).toMatch(/sign in again/i);
    expect(run(state, { type: "connected" }).phase).toBe("stopped");
    state = run(state, { type: "signed-in" });
    expect(state).toMatchObject({ phase: "connecting", needsSignIn: false, problem: null, pending: 1 });
    expect(run(state, { type: "connected" }, { type: "synced" })).toMatchObject({ phase: "synced", pending: 0 });
  });

  it("records problems and read-only without changing the phase", () => {
    let state = run(initialSyncState(), { type: "connected" }, { type: "problem", message: "slow down" });
    expect(state).toMatchObject({ phase: "syncing", problem: "slow down" });
    state = run(state, { type: "read-only" });
    expect(state.readOnly).toBe(true);
    // A sync clears the problem but not read-only.
    state = run(state, { type: "synced" });
    expect(state).toMatchObject({ problem: null, readOnly: true });
    expect(run(state, { type: "problem", message: null }).problem).toBeNull();
  });

  it("never mutates the state it is given", () => {
    const state = Object.freeze(initialSyncState());
    expect(() => run(state, change, { type: "offline" }, { type: "read-only" }, { type: "needs-sign-in" })).not.toThrow();
  });
});

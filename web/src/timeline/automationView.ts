// Which tracks show their automation lane (volume or pan) and the point selected in it:
// local to this tab (not shared), one store per document, read by the track headers
// (the toggle) and the arrangement (the lane rows).
import { useSyncExternalStore } from "react";
import type * as Y from "yjs";
import type { LaneName } from "../doc/model";

export interface PointRef {
  trackId: string;
  lane: LaneName;
  /** The point's index in the stored lane (LanePoint.index). */
  index: number;
}

export interface AutomationView {
  /** Tracks whose automation row is open, with the lane it edits. */
  shown: ReadonlyMap<string, LaneName>;
  selected: PointRef | null;
}

export class AutomationViewStore {
  private view: AutomationView = { shown: new Map(), selected: null };
  private listeners = new Set<() => void>();
  private focusWanted: PointRef | null = null;

  get(): AutomationView {
    return this.view;
  }

  /** Open the track's automation row (on the volume lane) or close it. */
  toggle(trackId: string): void {
    const shown = new Map(this.view.shown);
    if (shown.has(trackId)) shown.delete(trackId);
    else shown.set(trackId, "volume");
    const selected = this.view.selected?.trackId === trackId ? null : this.view.selected;
    this.set({ shown, selected });
  }

  showLane(trackId: string, lane: LaneName): void {
    const shown = new Map(this.view.shown);
    shown.set(trackId, lane);
    this.set({ shown, selected: this.view.selected?.trackId === trackId ? null : this.view.selected });
  }

  /** Select a point (null: none); `focus` moves keyboard focus to it once it is drawn. */
  select(point: PointRef | null, focus = false): void {
    this.focusWanted = focus ? point : null;
    const current = this.view.selected;
    if (point?.trackId === current?.trackId && point?.lane === current?.lane && point?.index === current?.index) return;
    this.set({ ...this.view, selected: point });
  }

  /** True once for the point that should take focus. */
  takeFocus(point: PointRef): boolean {
    const wanted = this.focusWanted;
    if (!wanted || wanted.trackId !== point.trackId || wanted.lane !== point.lane || wanted.index !== point.index) return false;
    this.focusWanted = null;
    return true;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(view: AutomationView): void {
    this.view = view;
    for (const listener of [...this.listeners]) listener();
  }
}

const stores = new WeakMap<Y.Doc, AutomationViewStore>();

export function automationViewFor(doc: Y.Doc): AutomationViewStore {
  let store = stores.get(doc);
  if (!store) {
    store = new AutomationViewStore();
    stores.set(doc, store);
  }
  return store;
}

export function useAutomationView(doc: Y.Doc): AutomationView {
  const store = automationViewFor(doc);
  return useSyncExternalStore(
    (notify) => store.subscribe(notify),
    () => store.get(),
  );
}

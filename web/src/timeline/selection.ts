// The selected clip: local to this tab (not shared), one per document, read by the
// arrangement and the transport ("Loop selected clip").
import { useSyncExternalStore } from "react";
import type * as Y from "yjs";

export interface ClipRef {
  trackId: string;
  clipId: string;
}

export class SelectionStore {
  private value: ClipRef | null = null;
  private focusWanted: string | null = null;
  private listeners = new Set<() => void>();

  get(): ClipRef | null {
    return this.value;
  }

  /** Select a clip (null: nothing); `focus` moves keyboard focus to it once it is drawn. */
  set(value: ClipRef | null, focus = false): void {
    this.focusWanted = focus && value ? value.clipId : null;
    if (value?.clipId === this.value?.clipId && value?.trackId === this.value?.trackId) return;
    this.value = value;
    for (const listener of [...this.listeners]) listener();
  }

  /** True once for the clip that should take focus. */
  takeFocus(clipId: string): boolean {
    if (this.focusWanted !== clipId) return false;
    this.focusWanted = null;
    return true;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const stores = new WeakMap<Y.Doc, SelectionStore>();

export function selectionFor(doc: Y.Doc): SelectionStore {
  let store = stores.get(doc);
  if (!store) {
    store = new SelectionStore();
    stores.set(doc, store);
  }
  return store;
}

export function useSelection(doc: Y.Doc): ClipRef | null {
  const store = selectionFor(doc);
  return useSyncExternalStore(
    (notify) => store.subscribe(notify),
    () => store.get(),
  );
}

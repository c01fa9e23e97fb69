// Small hooks over the shared document: each reads one root and re-reads it only
// when that root changes. The document is the state; there is no second store.
import { useCallback, useMemo, useRef, useSyncExternalStore } from "react";
import type * as Y from "yjs";
import type { Awareness } from "y-protocols/awareness";
import {
  commentsOf,
  coachingOf,
  jobsOf,
  lyricsMetaOf,
  metaOf,
  mixOf,
  readComments,
  readCoaching,
  readJobs,
  readMeta,
  readMix,
  readTracks,
  tracksOf,
  type Comment,
  type Coaching,
  type Job,
  type Meta,
  type Mix,
  type Track,
} from "./model";
import { readLyricsAnalysis, readLyricsSuggestions, type LyricsAnalysis, type LyricsSuggestion } from "./lyrics";

/**
 * The value `read(doc)` returns, recomputed after each change to `root` (deep).
 * The snapshot is cached, so unrelated changes (lyrics keystrokes) cost nothing here.
 */
export function useRootSnapshot<T>(doc: Y.Doc, root: Y.AbstractType<unknown>, read: (doc: Y.Doc) => T): T {
  const cache = useRef<{ doc: Y.Doc; root: Y.AbstractType<unknown>; value: T } | null>(null);
  const subscribe = useCallback(
    (notify: () => void) => {
      const onChange = () => {
        cache.current = null;
        notify();
      };
      // A change between the render and this subscription (the offline copy loading
      // from IndexedDB) fired no event: drop the cached value if it is out of date.
      const cached = cache.current;
      if (cached && JSON.stringify(read(doc)) !== JSON.stringify(cached.value)) cache.current = null;
      root.observeDeep(onChange);
      return () => root.unobserveDeep(onChange);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [doc, root],
  );
  const getSnapshot = useCallback((): T => {
    const cached = cache.current;
    if (cached && cached.doc === doc && cached.root === root) return cached.value;
    const value = read(doc);
    cache.current = { doc, root, value };
    return value;
    // `read` is a module-level reader; it is not a dependency.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [doc, root]);
  return useSyncExternalStore(subscribe, getSnapshot);
}

export const useMeta = (doc: Y.Doc): Meta => useRootSnapshot(doc, metaOf(doc) as Y.AbstractType<unknown>, readMeta);
export const useTracks = (doc: Y.Doc): Track[] => useRootSnapshot(doc, tracksOf(doc) as Y.AbstractType<unknown>, readTracks);
export const useJobs = (doc: Y.Doc): Job[] => useRootSnapshot(doc, jobsOf(doc) as Y.AbstractType<unknown>, readJobs);
export const useMix = (doc: Y.Doc): Mix => useRootSnapshot(doc, mixOf(doc) as Y.AbstractType<unknown>, readMix);
export const useCoaching = (doc: Y.Doc): Coaching[] => useRootSnapshot(doc, coachingOf(doc) as Y.AbstractType<unknown>, readCoaching);
export const useComments = (doc: Y.Doc): Comment[] => useRootSnapshot(doc, commentsOf(doc) as Y.AbstractType<unknown>, readComments);
export const useLyricsSuggestions = (doc: Y.Doc): LyricsSuggestion[] =>
  useRootSnapshot(doc, lyricsMetaOf(doc) as Y.AbstractType<unknown>, readLyricsSuggestions);
export const useLyricsAnalysis = (doc: Y.Doc): LyricsAnalysis | null =>
  useRootSnapshot(doc, lyricsMetaOf(doc) as Y.AbstractType<unknown>, readLyricsAnalysis);

/** One peer in awareness: its client id and state (`user`, `playhead`, `cursor`...). */
export interface Peer {
  clientId: number;
  state: Record<string, unknown>;
  isLocal: boolean;
}

/** Everyone present, re-read when anyone's presence changes. */
export function usePeers(awareness: Awareness): Peer[] {
  const cache = useRef<Peer[] | null>(null);
  const subscribe = useCallback(
    (notify: () => void) => {
      const onChange = () => {
        cache.current = null;
        notify();
      };
      awareness.on("change", onChange);
      return () => awareness.off("change", onChange);
    },
    [awareness],
  );
  const getSnapshot = useCallback(() => {
    if (!cache.current) {
      cache.current = Array.from(awareness.getStates().entries()).map(([clientId, state]) => ({
        clientId,
        state: state as Record<string, unknown>,
        isLocal: clientId === awareness.clientID,
      }));
    }
    return cache.current;
  }, [awareness]);
  return useSyncExternalStore(subscribe, getSnapshot);
}

/** A stable callback that always calls the latest `fn`. */
export function useEvent<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const ref = useRef(fn);
  ref.current = fn;
  return useMemo(() => (...args: A) => ref.current(...args), []);
}

// A test hook for bench/bench_web.py: with `?bench=1` in the page's URL the studio's
// shared document is reachable as `window.__jacameno.doc`, so the benchmark can time
// a Yjs edit from one tab to another without going through a panel. It grants nothing
// the page's own scripts do not already have (the server checks every write), and
// without the query parameter it does nothing.
import { useEffect } from "react";
import type * as Y from "yjs";

export interface BenchHandle {
  doc: Y.Doc;
}

type BenchWindow = Window & { __jacameno?: BenchHandle };

export function benchRequested(search: string = window.location.search): boolean {
  return new URLSearchParams(search).get("bench") === "1";
}

/** Expose `doc` as `window.__jacameno` while the studio shows it, only under `?bench=1`. */
export function useBenchHook(doc: Y.Doc): void {
  useEffect(() => {
    if (!benchRequested()) return;
    const w = window as BenchWindow;
    w.__jacameno = { doc };
    return () => {
      if (w.__jacameno?.doc === doc) delete w.__jacameno;
    };
  }, [doc]);
}

// One live control's value: while it is dragged, the drag shows at once and reaches the
// shared document at most every LIVE_WRITE_MS (peers hear it as it happens); the release
// lands the exact last value; a reset writes the default. Used by every slider that
// edits the document (track volume and pan, effect parameters).

import { useEffect, useMemo, useState, type DependencyList } from "react";

import { LIVE_WRITE_MS, throttle } from "./throttle";

export interface LiveValue {
  /** The value to show: the drag's while dragging, else the document's. */
  shown: number;
  /** A new value from the control: shown now, written throttled. */
  change(value: number): void;
  /** The drag ended: write the last value now and show the document's again. */
  release(): void;
  /** Write `resetTo` (a double-click), dropping any pending write. */
  reset(): void;
}

/**
 * `value` is the document's; `write` stores a value in the document. `deps` name what
 * `write` writes to (document, record, field): a change of them flushes the pending
 * write to the old target first.
 */
export function useLiveValue(
  value: number,
  write: (value: number) => void,
  resetTo: number,
  disabled: boolean,
  deps: DependencyList,
): LiveValue {
  const [draft, setDraft] = useState<number | null>(null);
  const throttled = useMemo(() => throttle(write, LIVE_WRITE_MS), deps);
  useEffect(() => () => throttled.flush(), [throttled]);
  return {
    shown: draft ?? value,
    change(next: number) {
      setDraft(next);
      throttled(next);
    },
    release() {
      throttled.flush();
      setDraft(null);
    },
    reset() {
      if (disabled) return;
      throttled.cancel();
      write(resetTo);
      setDraft(null);
    },
  };
}

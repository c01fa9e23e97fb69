// Live control drags write to the shared document at most every `intervalMs`, so peers
// hear the change as it happens without a flood of updates; the last value always lands.

export interface Throttled<A extends unknown[]> {
  (...args: A): void;
  /** Run the pending call now (a drag's release). */
  flush(): void;
  /** Drop the pending call. */
  cancel(): void;
}

/** `fn` at most once per `intervalMs` (leading and trailing calls). */
export function throttle<A extends unknown[]>(fn: (...args: A) => void, intervalMs: number): Throttled<A> {
  let last = -Infinity;
  let pending: A | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const run = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pending === null) return;
    const args = pending;
    pending = null;
    last = Date.now();
    fn(...args);
  };

  const throttled = ((...args: A) => {
    pending = args;
    const wait = intervalMs - (Date.now() - last);
    if (wait <= 0) run();
    else if (timer === null) timer = setTimeout(run, wait);
  }) as Throttled<A>;
  throttled.flush = run;
  throttled.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return throttled;
}

/** Document writes for live drags: 10 per second. */
export const LIVE_WRITE_MS = 100;

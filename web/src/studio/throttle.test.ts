import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { throttle } from "./throttle";

describe("throttle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs the first call at once and the last one after the interval", () => {
    const fn = vi.fn();
    const t = throttle(fn, 100);
    t(1);
    t(2);
    t(3);
    expect(fn.mock.calls).toEqual([[1]]);
    vi.advanceTimersByTime(100);
    expect(fn.mock.calls).toEqual([[1], [3]]);
  });

  it("stays at or under ten calls a second during a long drag", () => {
    const fn = vi.fn();
    const t = throttle(fn, 100);
    for (let i = 0; i < 100; i++) {
      t(i);
      vi.advanceTimersByTime(10);
    }
    expect(fn.mock.calls.length).toBeLessThanOrEqual(11);
    vi.advanceTimersByTime(100);
    expect(fn.mock.calls.at(-1)).toEqual([99]);
  });

  it("flush writes the pending value now; cancel drops it", () => {
    const fn = vi.fn();
    const t = throttle(fn, 100);
    t(1);
    t(2);
    t.flush();
    expect(fn.mock.calls).toEqual([[1], [2]]);
    t(3);
    t.cancel();
    vi.advanceTimersByTime(200);
    expect(fn.mock.calls).toEqual([[1], [2]]);
  });
});

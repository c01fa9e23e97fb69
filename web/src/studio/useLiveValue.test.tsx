// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LIVE_WRITE_MS } from "./throttle";
import { useLiveValue } from "./useLiveValue";

afterEach(cleanup);
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(target = "volume", disabled = false) {
  const writes: [string, number][] = [];
  const hook = renderHook(
    ({ target, value }: { target: string; value: number }) =>
      useLiveValue(value, (v) => writes.push([target, v]), 0, disabled, [target]),
    { initialProps: { target, value: -6 } },
  );
  return { writes, hook };
}

describe("useLiveValue", () => {
  it("shows a drag at once, writes at most once per interval, and lands the last value on release", () => {
    const { writes, hook } = setup();
    expect(hook.result.current.shown).toBe(-6);
    act(() => hook.result.current.change(-5));
    act(() => hook.result.current.change(-4));
    act(() => hook.result.current.change(-3));
    expect(hook.result.current.shown).toBe(-3);
    expect(writes).toEqual([["volume", -5]]); // leading write; the rest wait their turn
    act(() => hook.result.current.release());
    expect(writes).toEqual([["volume", -5], ["volume", -3]]);
    expect(hook.result.current.shown).toBe(-6); // the document's value again
    act(() => vi.advanceTimersByTime(LIVE_WRITE_MS * 3));
    expect(writes).toHaveLength(2);
  });

  it("writes the pending value after the interval without a release", () => {
    const { writes, hook } = setup();
    act(() => hook.result.current.change(-5));
    act(() => hook.result.current.change(-2));
    act(() => vi.advanceTimersByTime(LIVE_WRITE_MS));
    expect(writes).toEqual([["volume", -5], ["volume", -2]]);
  });

  it("a reset drops the pending write and writes the default", () => {
    const { writes, hook } = setup();
    act(() => hook.result.current.change(-5));
    act(() => hook.result.current.change(-2));
    act(() => hook.result.current.reset());
    act(() => vi.advanceTimersByTime(LIVE_WRITE_MS * 3));
    expect(writes).toEqual([["volume", -5], ["volume", 0]]);
  });

  it("a disabled control does not reset", () => {
    const { writes, hook } = setup("volume", true);
    act(() => hook.result.current.reset());
    expect(writes).toEqual([]);
  });

  it("a pending write lands on its own target when the target changes", () => {
    const { writes, hook } = setup();
    act(() => hook.result.current.change(-5));
    act(() => hook.result.current.change(-1));
    hook.rerender({ target: "pan", value: 0 });
    expect(writes).toEqual([["volume", -5], ["volume", -1]]);
  });
});

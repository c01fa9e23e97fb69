// @vitest-environment jsdom
import { renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { benchRequested, useBenchHook } from "./benchHook";

const handle = () => (window as Window & { __jacameno?: { doc: Y.Doc } }).__jacameno;

afterEach(() => window.history.replaceState(null, "", "/"));

describe("useBenchHook", () => {
  it("does nothing without ?bench=1", () => {
    window.history.replaceState(null, "", "/projects/p?bench=0");
    expect(benchRequested()).toBe(false);
    const { unmount } = renderHook(() => useBenchHook(new Y.Doc()));
    expect(handle()).toBeUndefined();
    unmount();
  });

  it("exposes the document under ?bench=1 and removes it on unmount", () => {
    window.history.replaceState(null, "", "/projects/p?bench=1");
    const doc = new Y.Doc();
    const { unmount } = renderHook(() => useBenchHook(doc));
    expect(handle()?.doc).toBe(doc);
    unmount();
    expect(handle()).toBeUndefined();
  });
});

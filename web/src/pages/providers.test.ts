// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../api/fakeStorage";
import { OAUTH_NEXT_KEY, providerLabel, rememberNext, takeRememberedNext } from "./providers";

describe("providerLabel", () => {
  it("uses the server's label, else the name", () => {
    expect(providerLabel("github", [{ name: "github", label: "GitHub", kind: "github" }])).toBe("GitHub");
    expect(providerLabel("google", [])).toBe("Google");
    expect(providerLabel("", [])).toBe("the provider");
  });
});

describe("the page to return to after a provider", () => {
  it("is kept for one read", () => {
    const storage = new MemoryStorage();
    rememberNext("/projects/p1?tab=mix", storage);
    expect(storage.getItem(OAUTH_NEXT_KEY)).toBe("/projects/p1?tab=mix");
    expect(takeRememberedNext(storage)).toBe("/projects/p1?tab=mix");
    expect(takeRememberedNext(storage)).toBe("/");
  });

  it("keeps only same-origin paths, and forgets an older one when there is none", () => {
    const storage = new MemoryStorage();
    rememberNext("//evil.example/x", storage);
    expect(takeRememberedNext(storage)).toBe("/");
    rememberNext("/projects/p1", storage);
    rememberNext(null, storage);
    expect(takeRememberedNext(storage)).toBe("/");
    // Something else wrote the key: it is checked again on the way out.
    storage.setItem(OAUTH_NEXT_KEY, "https://evil.example/");
    expect(takeRememberedNext(storage)).toBe("/");
  });

  it("works without storage", () => {
    rememberNext("/x", null);
    expect(takeRememberedNext(null)).toBe("/");
  });
});

// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import type { AuthProvider, KeyUseOut, SessionOut } from "../../api/types";
import { describeKeyUse, describeSession, methodText, passwordProblem, placeText, sessionDetails, sortSessions, timeAgo, toMillis } from "./accountItems";

const NOW = Date.parse("2025-05-12T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;
const providers: AuthProvider[] = [{ name: "github", label: "GitHub", kind: "github" }];

const session = (id: string, patch: Partial<SessionOut> = {}): SessionOut => ({
  id,
  current: false,
  method: "password",
  device: "Chrome on Linux",
  ip: "203.0.113.7",
  place: "United Kingdom",
  created_at: "2025-05-01T09:00:00Z",
  last_used_at: ago(3 * MIN),
  ...patch,
});

describe("timeAgo", () => {
  it("says how long ago in words", () => {
    expect(timeAgo(ago(20_000), NOW)).toBe("just now");
    expect(timeAgo(ago(3 * MIN), NOW)).toBe("3 min ago");
    expect(timeAgo(ago(59 * MIN), NOW)).toBe("59 min ago");
    expect(timeAgo(ago(2 * 60 * MIN), NOW)).toBe("2 h ago");
    expect(timeAgo(ago(25 * 60 * MIN), NOW)).toBe("yesterday");
    expect(timeAgo(ago(5 * 24 * 60 * MIN), NOW)).toBe("5 days ago");
    expect(timeAgo(ago(40 * 24 * 60 * MIN), NOW)).toMatch(/^on /);
    // A clock a little ahead of this one is "just now", not the future.
    expect(timeAgo(ago(-MIN), NOW)).toBe("just now");
  });

  it("accepts epoch seconds and answers null when the time is unknown", () => {
    expect(timeAgo((NOW - 10 * MIN) / 1000, NOW)).toBe("10 min ago");
    expect(timeAgo(null, NOW)).toBeNull();
    expect(timeAgo("not a time", NOW)).toBeNull();
    expect(toMillis(Number.NaN)).toBeNull();
  });
});

describe("sessions", () => {
  it("describes a session: device, place, how it signed in, when", () => {
    const text = describeSession(session("s1", { method: "github" }), providers, NOW);
    expect(text.startsWith("Chrome on Linux · United Kingdom (203.0.113.7) · signed in with GitHub · last used 3 min ago · since ")).toBe(true);
  });

  it("leaves out what is unknown", () => {
    const text = sessionDetails(session("s1", { place: null, ip: null, device: null, last_used_at: null, created_at: ago(2 * MIN) }), providers, NOW);
    expect(text.startsWith("signed in with a password · last used 2 min ago · since ")).toBe(true);
    expect(describeSession(session("s2", { device: "  " }), [], NOW).startsWith("An unknown device · ")).toBe(true);
  });

  it("names every way of signing in", () => {
    expect(methodText("password", providers)).toBe("with a password");
    expect(methodText("reset", providers)).toBe("with a password reset link");
    expect(methodText("email-link", providers)).toBe("with an emailed link");
    expect(methodText("github", providers)).toBe("with GitHub");
    expect(methodText("gitlab", providers)).toBe("with Gitlab");
  });

  it("puts the place and the address together", () => {
    expect(placeText("United Kingdom", "203.0.113.7")).toBe("United Kingdom (203.0.113.7)");
    expect(placeText("this computer", null)).toBe("this computer");
    expect(placeText(null, "10.0.0.2")).toBe("10.0.0.2");
    expect(placeText(null, null)).toBeNull();
  });

  it("lists this device first, then the most recently used", () => {
    const sorted = sortSessions([
      session("old", { last_used_at: ago(60 * MIN) }),
      session("new", { last_used_at: ago(MIN) }),
      session("here", { current: true, last_used_at: ago(120 * MIN) }),
      session("unused", { last_used_at: null, created_at: ago(30 * MIN) }),
    ]);
    expect(sorted.map((s) => s.id)).toEqual(["here", "new", "unused", "old"]);
  });
});

describe("describeKeyUse", () => {
  const key: KeyUseOut = {
    id: "k1",
    name: "CI",
    prefix: "jcm_ab12",
    project_id: "p1",
    project_name: "Night Drive",
    role: "editor",
    device: "curl/8.5",
    ip: "127.0.0.1",
    place: "this computer",
    created_at: "2025-05-01T09:00:00Z",
    last_used_at: ago(3 * MIN),
  };

  it("says where and when a key was last used", () => {
    expect(describeKeyUse(key, NOW).startsWith("Night Drive · editor · jcm_ab12… · last used 3 min ago · curl/8.5 · this computer (127.0.0.1) · made ")).toBe(true);
  });

  it("a key never used has no place", () => {
    expect(describeKeyUse({ ...key, last_used_at: null }, NOW).startsWith("Night Drive · editor · jcm_ab12… · never used · made ")).toBe(true);
  });
});

describe("passwordProblem", () => {
  it("checks the length and that both are the same", () => {
    expect(passwordProblem("long enough", "long enough")).toBeNull();
    expect(passwordProblem("short", "short")).toMatch(/at least 8/);
    expect(passwordProblem("x".repeat(257), "x".repeat(257))).toMatch(/at most 256/);
    expect(passwordProblem("long enough", "long enougH")).toMatch(/differ/);
  });
});

// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { clearHash, isSignedOutPage, parseRoute, readHashParam, safeNext } from "./router";

const noNotice = { notice: null, provider: null, error: null };

describe("parseRoute", () => {
  it("maps the client's pages", () => {
    expect(parseRoute("/")).toEqual({ page: "projects" });
    expect(parseRoute("")).toEqual({ page: "projects" });
    expect(parseRoute("/login", "?next=%2Fprojects%2Fabc")).toEqual({ page: "login", next: "/projects/abc", ...noNotice });
    expect(parseRoute("/login")).toEqual({ page: "login", next: null, ...noNotice });
    expect(parseRoute("/signup", "?next=/x")).toEqual({ page: "signup", next: "/x", ...noNotice });
    expect(parseRoute("/projects/abc_DEF-123")).toEqual({ page: "studio", projectId: "abc_DEF-123" });
    expect(parseRoute("/projects/abc/")).toEqual({ page: "studio", projectId: "abc" });
    expect(parseRoute("/account/memory")).toEqual({ page: "memory" });
  });

  it("reads what the server's redirects tell the sign-in and account pages", () => {
    expect(parseRoute("/login", "?notice=check-email&provider=google")).toEqual({ page: "login", next: null, notice: "check-email", provider: "google", error: null });
    expect(parseRoute("/login", "?error=The+provider+said+no.")).toEqual({ page: "login", next: null, notice: null, provider: null, error: "The provider said no." });
    expect(parseRoute("/account")).toEqual({ page: "account", linked: null, error: null });
    expect(parseRoute("/account/", "?linked=github")).toEqual({ page: "account", linked: "github", error: null });
    expect(parseRoute("/account", "?error=Already%20linked")).toEqual({ page: "account", linked: null, error: "Already linked" });
  });

  it("maps the pages emailed links and providers lead to, with or without a trailing slash", () => {
    const pages = {
      "/forgot-password": "forgot-password",
      "/reset-password": "reset-password",
      "/verify-email": "verify-email",
      "/confirm-link": "confirm-link",
      "/auth/done": "auth-done",
    };
    for (const [path, page] of Object.entries(pages)) {
      expect(parseRoute(path), path).toEqual({ page });
      expect(parseRoute(`${path}/`), path).toEqual({ page });
    }
  });

  it("answers not-found for anything else", () => {
    for (const path of ["/projects", "/projects/", "/projects/a/b", "/projects/a.b", "/projects/" + "x".repeat(65), "/nope", "/login/x", "/account/x", "/account/memory/x", "/auth", "/auth/done/x", "/constructor", "/toString"]) {
      expect(parseRoute(path), path).toEqual({ page: "not-found" });
    }
  });

  it("lets signed-out visitors reach only the sign-in, sign-up and emailed-link pages", () => {
    const open = ["/login", "/signup", "/forgot-password", "/reset-password", "/verify-email", "/confirm-link", "/auth/done"];
    const closed = ["/", "/account", "/account/memory", "/projects/abc", "/nope"];
    for (const path of open) expect(isSignedOutPage(parseRoute(path)), path).toBe(true);
    for (const path of closed) expect(isSignedOutPage(parseRoute(path)), path).toBe(false);
  });
});

describe("readHashParam", () => {
  it("reads a fragment's parameter, decoding %-escapes but keeping a +", () => {
    expect(readHashParam("#token=abc-DEF_123", "token")).toBe("abc-DEF_123");
    expect(readHashParam("#handoff=x%2By&token=t", "token")).toBe("t");
    expect(readHashParam("#handoff=x%2By&token=t", "handoff")).toBe("x+y");
    expect(readHashParam("token=a+b", "token")).toBe("a+b");
    expect(readHashParam("#token=a=b", "token")).toBe("a=b");
  });

  it("answers null when the parameter is missing, empty or damaged", () => {
    for (const hash of ["", "#", "#token", "#token=", "#tokens=x", "#xtoken=y", "#token=%E0%A4%A"]) {
      expect(readHashParam(hash, "token"), hash).toBeNull();
    }
  });
});

describe("clearHash", () => {
  afterEach(() => window.history.replaceState(null, "", "/"));

  it("drops the fragment from the address without a new history entry", () => {
    window.history.replaceState(null, "", "/reset-password?x=1#token=secret");
    const length = window.history.length;
    clearHash();
    expect(window.location.pathname + window.location.search + window.location.hash).toBe("/reset-password?x=1");
    expect(window.history.length).toBe(length);
  });
});

describe("safeNext", () => {
  it("follows same-origin paths", () => {
    expect(safeNext("/projects/abc")).toBe("/projects/abc");
    expect(safeNext("/")).toBe("/");
    expect(safeNext("/projects/abc?x=1#y")).toBe("/projects/abc?x=1#y");
  });

  it("refuses anything that could leave the origin", () => {
    for (const next of [null, "", "//evil.com", "//evil.com/projects", "https://evil", "http://evil.com/", "javascript:alert(1)", "evil.com", "/\\evil.com", "\\\\evil.com", "/\t/evil.com", "/\n/evil.com"]) {
      const target = safeNext(next);
      expect(new URL(target, "https://app.example").origin, String(next)).toBe("https://app.example");
    }
  });
});

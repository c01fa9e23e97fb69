// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { parseRoute, safeNext } from "./router";

describe("parseRoute", () => {
  it("maps the client's pages", () => {
    expect(parseRoute("/")).toEqual({ page: "projects" });
    expect(parseRoute("")).toEqual({ page: "projects" });
    expect(parseRoute("/login", "?next=%2Fprojects%2Fabc")).toEqual({ page: "login", next: "/projects/abc" });
    expect(parseRoute("/login")).toEqual({ page: "login", next: null });
    expect(parseRoute("/signup", "?next=/x")).toEqual({ page: "signup", next: "/x" });
    expect(parseRoute("/projects/abc_DEF-123")).toEqual({ page: "studio", projectId: "abc_DEF-123" });
    expect(parseRoute("/projects/abc/")).toEqual({ page: "studio", projectId: "abc" });
    expect(parseRoute("/account/memory")).toEqual({ page: "memory" });
  });

  it("answers not-found for anything else", () => {
    for (const path of ["/projects", "/projects/", "/projects/a/b", "/projects/a.b", "/projects/" + "x".repeat(65), "/nope", "/login/x", "/account", "/account/memory/x"]) {
      expect(parseRoute(path), path).toEqual({ page: "not-found" });
    }
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

// @vitest-environment jsdom
import { cleanup, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../api/client";
import { MemoryStorage } from "../api/fakeStorage";
import { SessionStore } from "../api/session";
import { fakeServer, json, renderWithApi } from "./account/fakeServer";
import { AuthPage, goToProvider } from "./AuthPage";
import { OAUTH_NEXT_KEY } from "./providers";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.sessionStorage.clear();
});

const PROVIDERS = {
  providers: [
    { name: "google", label: "Google", kind: "oidc" },
    { name: "github", label: "GitHub", kind: "github" },
  ],
};

describe("AuthPage", () => {
  it("offers the server's providers above the form, and the way to a forgotten password", async () => {
    fakeServer({ "GET /api/v1/auth/providers": () => PROVIDERS });
    renderWithApi(<AuthPage mode="login" next={null} />);
    expect(await screen.findByRole("button", { name: "Continue with Google" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Continue with GitHub" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Forgot password?" }).getAttribute("href")).toBe("/forgot-password");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy();
  });

  it.each([
    ["none is configured", () => ({ providers: [] })],
    ["the call fails", () => json(500, { error: { code: "internal", message: "boom" } })],
  ])("shows no provider button when %s", async (_why, answer) => {
    const calls = fakeServer({ "GET /api/v1/auth/providers": answer });
    renderWithApi(<AuthPage mode="signup" next={null} />);
    await waitFor(() => expect(calls.length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.queryByRole("button", { name: /Continue with/ })).toBeNull();
    expect(screen.getByRole("button", { name: "Create account" })).toBeTruthy();
  });

  it("says a link was emailed when the provider's address has an account", async () => {
    fakeServer({ "GET /api/v1/auth/providers": () => PROVIDERS });
    renderWithApi(<AuthPage mode="login" next={null} arrival={{ notice: "check-email", provider: "github", error: null }} />);
    await screen.findByRole("button", { name: "Continue with GitHub" });
    expect(screen.getByRole("status").textContent).toBe("We emailed a link to confirm it is you; open it to link GitHub to your account.");
  });

  it("shows the error the server's redirect carries", () => {
    fakeServer({});
    renderWithApi(<AuthPage mode="login" next={null} arrival={{ notice: null, provider: null, error: "Google did not sign you in." }} />);
    expect(screen.getByRole("alert").textContent).toBe("Google did not sign you in.");
  });
});

describe("goToProvider", () => {
  it("signing in remembers where to go, tells the server, then leaves for the provider", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/oauth/google/start": () => ({ authorize_url: "https://accounts.example/auth" }) });
    const api = new ApiClient(new SessionStore(new MemoryStorage()));
    const leave = vi.fn();
    await goToProvider(api, "google", "signin", "/projects/p1", leave);
    expect(window.sessionStorage.getItem(OAUTH_NEXT_KEY)).toBe("/projects/p1");
    expect(calls).toMatchObject([{ method: "POST", path: "/api/v1/auth/oauth/google/start", body: { mode: "signin", next: "/projects/p1" } }]);
    expect(leave).toHaveBeenCalledWith("https://accounts.example/auth");
  });

  it("linking does not touch the remembered page; a refused start does not leave", async () => {
    fakeServer({ "POST /api/v1/auth/oauth/github/start": () => json(400, { error: { code: "bad_request", message: "unknown provider" } }) });
    const api = new ApiClient(new SessionStore(new MemoryStorage()));
    window.sessionStorage.setItem(OAUTH_NEXT_KEY, "/projects/p2");
    const leave = vi.fn();
    await expect(goToProvider(api, "github", "link", "/account", leave)).rejects.toMatchObject({ message: "unknown provider" });
    expect(leave).not.toHaveBeenCalled();
    expect(window.sessionStorage.getItem(OAUTH_NEXT_KEY)).toBe("/projects/p2");
  });
});

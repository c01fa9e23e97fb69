// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Identity, KeyUseOut, SessionOut, User } from "../../api/types";
import { AccountPage } from "./AccountPage";
import { authOut, fakeServer, json, renderWithApi, testUser, type FakeRoutes } from "./fakeServer";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.history.replaceState(null, "", "/");
});

const recently = new Date(Date.now() - 3 * 60_000).toISOString();
const here: SessionOut = { id: "s1", current: true, method: "password", device: "Firefox on Linux", ip: "127.0.0.1", place: "this computer", created_at: recently, last_used_at: recently };
const phone: SessionOut = { id: "s2", current: false, method: "google", device: "Safari on iOS", ip: "203.0.113.7", place: "United Kingdom", created_at: recently, last_used_at: recently };
const key: KeyUseOut = { id: "k1", name: "CI", prefix: "jcm_ab12", project_id: "p1", project_name: "Night Drive", role: "editor", device: null, ip: null, place: null, created_at: recently, last_used_at: null };
const google: Identity = { id: "i1", provider: "google", label: "Google", email: "ann@gmail.example", created_at: recently, last_used_at: recently };

function server(user: User, extra: FakeRoutes = {}) {
  return fakeServer({
    "GET /api/v1/me": () => ({ user, api_key: null }),
    "GET /api/v1/auth/providers": () => ({ providers: [{ name: "google", label: "Google", kind: "oidc" }, { name: "github", label: "GitHub", kind: "github" }] }),
    "GET /api/v1/me/identities": () => ({ identities: [google] }),
    "GET /api/v1/me/sessions": () => ({ sessions: [phone, here], api_keys: [key] }),
    ...extra,
  });
}

async function openAccount(user: User, extra: FakeRoutes = {}, props = { linked: null as string | null, error: null as string | null }) {
  const calls = server(user, extra);
  const view = renderWithApi(<AccountPage {...props} />, { user });
  await screen.findByRole("heading", { name: "Where you are signed in" });
  await screen.findByRole("button", { name: "Unlink Google" });
  await screen.findByText("Safari on iOS");
  return { calls, ...view };
}

const section = (name: string) => screen.getByRole("heading", { name }).closest("section")!;

describe("AccountPage", () => {
  it("shows the address, the ways in, the devices and the keys", async () => {
    await openAccount({ ...testUser, email_verified: false });
    expect(within(section("Email address")).getByText("Not confirmed")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Send the link again" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Link GitHub" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Link Google" })).toBeNull();

    const devices = within(section("Where you are signed in")).getAllByRole("listitem");
    expect(devices.map((d) => d.querySelector("strong")?.textContent)).toEqual(["Firefox on Linux", "Safari on iOS"]);
    expect(devices[0].getAttribute("aria-current")).toBe("true");
    expect(within(devices[0]).getByText("This device")).toBeTruthy();
    expect(within(devices[0]).getByRole("button", { name: "Sign out" })).toBeTruthy();
    expect(devices[1].textContent).toContain("United Kingdom (203.0.113.7) · signed in with Google · last used 3 min ago");
    expect(within(devices[1]).getByRole("button", { name: "End session on Safari on iOS" })).toBeTruthy();

    expect(within(section("API keys")).getByText(/Night Drive · editor · jcm_ab12… · never used/)).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Change your password" })).toBeTruthy();
    expect(screen.getByLabelText("Current password")).toBeTruthy();
  });

  it("ends another session and revokes a key", async () => {
    const deleted: string[] = [];
    const gone = (call: { path: string }) => {
      deleted.push(call.path);
      return new Response(null, { status: 204 });
    };
    await openAccount(testUser, { "DELETE /api/v1/me/sessions/s2": gone, "DELETE /api/v1/me/api-keys/k1": gone });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "End session on Safari on iOS" })));
    expect(screen.queryByText("Safari on iOS")).toBeNull();
    expect(within(section("Where you are signed in")).getByRole("status").textContent).toBe("Signed out Safari on iOS.");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Revoke key CI" })));
    expect(within(section("API keys")).getByText("No active keys.")).toBeTruthy();
    expect(deleted).toEqual(["/api/v1/me/sessions/s2", "/api/v1/me/api-keys/k1"]);
  });

  it("ending this device's session signs out", async () => {
    const { store } = await openAccount(testUser, { "POST /api/v1/auth/logout": () => new Response(null, { status: 204 }) });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign out" })));
    expect(store.get()).toBeNull();
  });

  it("unlinking the last way in shows the server's refusal", async () => {
    const message = "This is your only way to sign in: set a password first.";
    await openAccount({ ...testUser, has_password: false }, { "DELETE /api/v1/me/identities/i1": () => json(409, { error: { code: "conflict", message } }) });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Unlink Google" })));
    expect(within(section("Ways to sign in")).getByRole("alert").textContent).toBe(message);
    expect(screen.getByRole("button", { name: "Unlink Google" })).toBeTruthy();
  });

  it("sets a first password without a current one, then keeps the new tokens", async () => {
    const { calls, store } = await openAccount(
      { ...testUser, has_password: false },
      { "POST /api/v1/me/password": () => authOut(7, { ...testUser, has_password: true }) },
    );
    expect(screen.getByRole("heading", { name: "Set a password" })).toBeTruthy();
    expect(screen.queryByLabelText("Current password")).toBeNull();
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "first password" } });
    fireEvent.change(screen.getByLabelText("Repeat the password"), { target: { value: "first password" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Set password" })));
    expect(calls.find((c) => c.path === "/api/v1/me/password")?.body).toEqual({ current_password: null, new_password: "first password" });
    expect(store.get()?.accessToken).toBe("access-7");
    // The form is now the change form; the sessions were asked again (the others ended).
    expect(screen.getByRole("heading", { name: "Change your password" })).toBeTruthy();
    expect(within(section("Change your password")).getByRole("status").textContent).toMatch(/Your password is set/);
    expect(calls.filter((c) => c.path === "/api/v1/me/sessions").length).toBeGreaterThanOrEqual(2);
  });

  it("says a link finished, or why it failed, and drops that from the address", async () => {
    window.history.replaceState(null, "", "/account?linked=github");
    await openAccount(testUser, {}, { linked: "github", error: null });
    expect(within(section("Ways to sign in")).getByRole("status").textContent).toBe("GitHub is linked to your account: you can sign in with it.");
    expect(window.location.search).toBe("");
    cleanup();

    await openAccount(testUser, {}, { linked: null, error: "That GitHub account is linked to another person." });
    expect(within(section("Ways to sign in")).getByRole("alert").textContent).toBe("That GitHub account is linked to another person.");
  });

  it("asks for the confirmation link again", async () => {
    const { calls } = await openAccount({ ...testUser, email_verified: false }, { "POST /api/v1/me/email/verification": () => json(202, { sent: true }) });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Send the link again" })));
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/me/email/verification")).toBe(true);
    expect(within(section("Email address")).getByRole("status").textContent).toBe("A new link is on its way to ann@example.com.");
  });
});

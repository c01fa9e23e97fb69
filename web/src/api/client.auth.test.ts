// The requests behind "Sign in the way people do": providers, the OAuth start and
// handoff, emailed links, passwords, identities, sessions and API keys.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "./client";
import { MemoryStorage } from "./fakeStorage";
import { SessionStore } from "./session";
import type { AuthOut, User } from "./types";

const user: User = { id: "u1", email: "a@example.com", display_name: "Ann", email_verified: false, has_password: true };
const auth = (n: number, patch: Partial<User> = {}): AuthOut => ({
  user: { ...user, ...patch },
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "bearer",
  expires_in: 900,
});
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

interface Call {
  url: string;
  method: string;
  auth: string | null;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

let calls: Call[];

function setup(handler: (call: Call) => Response) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      const call: Call = {
        url,
        method: init.method ?? "GET",
        auth: headers.Authorization ?? null,
        body: typeof init.body === "string" ? JSON.parse(init.body) : init.body ?? null,
        credentials: init.credentials,
      };
      calls.push(call);
      return handler(call);
    }),
  );
}

function client(signedIn = true) {
  const store = new SessionStore(new MemoryStorage());
  if (signedIn) store.setFromAuth(auth(1));
  return { store, api: new ApiClient(store) };
}

beforeEach(() => {
  calls = [];
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("sign-in providers", () => {
  it("lists the providers without the bearer token; a missing list is none", async () => {
    const google = { name: "google", label: "Google", kind: "oidc" };
    setup(() => json(200, { providers: [google] }));
    const { api } = client();
    expect(await api.providers()).toEqual([google]);
    expect(calls).toMatchObject([{ url: "/api/v1/auth/providers", method: "GET", auth: null }]);

    setup(() => json(200, {}));
    expect(await api.providers()).toEqual([]);
  });

  it("starts a sign-in anonymously with same-origin credentials (the flow's cookie)", async () => {
    setup(() => json(200, { authorize_url: "https://accounts.example/auth?state=s" }));
    const { api } = client(false);
    expect(await api.startOAuth("google", "signin", "/projects/p1")).toBe("https://accounts.example/auth?state=s");
    expect(calls).toEqual([
      { url: "/api/v1/auth/oauth/google/start", method: "POST", auth: null, body: { mode: "signin", next: "/projects/p1" }, credentials: "same-origin" },
    ]);
  });

  it("starts a link with the bearer token", async () => {
    setup(() => json(200, { authorize_url: "https://github.example/login" }));
    const { api } = client();
    await api.startOAuth("github", "link", null);
    expect(calls).toEqual([
      { url: "/api/v1/auth/oauth/github/start", method: "POST", auth: "Bearer access-1", body: { mode: "link", next: null }, credentials: "same-origin" },
    ]);
  });

  it("trades the handoff code for a stored session", async () => {
    setup(() => json(200, auth(2, { has_password: false })));
    const { api, store } = client(false);
    const session = await api.exchangeHandoff("code-1");
    expect(calls).toMatchObject([{ url: "/api/v1/auth/oauth/handoff", method: "POST", auth: null, body: { handoff: "code-1" } }]);
    expect(store.get()).toEqual(session);
    expect(store.get()?.accessToken).toBe("access-2");
    expect(store.get()?.user.has_password).toBe(false);
  });
});

describe("emailed links", () => {
  it("verifying updates the stored user when it is the same person", async () => {
    setup(() => json(200, { user: { ...user, email_verified: true } }));
    const { api, store } = client();
    const seen: unknown[] = [];
    store.subscribe((s) => seen.push(s?.user.email_verified));
    expect((await api.verifyEmail("tok")).email_verified).toBe(true);
    expect(calls).toMatchObject([{ url: "/api/v1/auth/email/verify", method: "POST", auth: null, body: { token: "tok" } }]);
    expect(store.get()?.user.email_verified).toBe(true);
    expect(store.get()?.accessToken).toBe("access-1");
    expect(seen).toEqual([true]);
  });

  it("verifying another person's address leaves the session alone", async () => {
    setup(() => json(200, { user: { ...user, id: "u2", email_verified: true } }));
    const { api, store } = client();
    await api.verifyEmail("tok");
    expect(store.get()?.user).toEqual(user);
  });

  it("confirming a link signs in", async () => {
    setup(() => json(200, auth(3)));
    const { api, store } = client(false);
    await api.confirmLink("tok");
    expect(calls).toMatchObject([{ url: "/api/v1/auth/email/link", method: "POST", auth: null, body: { token: "tok" } }]);
    expect(store.get()?.refreshToken).toBe("refresh-3");
  });

  it("asks for the link again with the session and no body", async () => {
    setup(() => json(202, { sent: true }));
    const { api } = client();
    expect(await api.resendVerification()).toEqual({ sent: true });
    expect(calls).toEqual([{ url: "/api/v1/me/email/verification", method: "POST", auth: "Bearer access-1", body: null, credentials: undefined }]);
  });
});

describe("passwords", () => {
  it("asks for a reset link anonymously", async () => {
    setup(() => json(202, { sent: true }));
    const { api } = client();
    await api.forgotPassword("a@example.com");
    expect(calls).toMatchObject([{ url: "/api/v1/auth/password/forgot", method: "POST", auth: null, body: { email: "a@example.com" } }]);
  });

  it("a reset signs in with the new tokens", async () => {
    setup(() => json(200, auth(4)));
    const { api, store } = client(false);
    await api.resetPassword("tok", "new password");
    expect(calls).toMatchObject([{ url: "/api/v1/auth/password/reset", auth: null, body: { token: "tok", password: "new password" } }]);
    expect(store.get()?.accessToken).toBe("access-4");
  });

  it("a change replaces this session's tokens; setting a first one sends no current password", async () => {
    setup(() => json(200, auth(5, { has_password: true })));
    const { api, store } = client();
    await api.changePassword("old password", "new password");
    expect(store.get()?.accessToken).toBe("access-5");
    await api.changePassword(null, "first password");
    expect(calls.map((c) => [c.url, c.method, c.auth, c.body])).toEqual([
      ["/api/v1/me/password", "POST", "Bearer access-1", { current_password: "old password", new_password: "new password" }],
      ["/api/v1/me/password", "POST", "Bearer access-5", { current_password: null, new_password: "first password" }],
    ]);
  });

  it("a wrong current password is the server's message, and the session stays", async () => {
    // A 401 first renews the access token (it may have expired), then asks once more.
    setup((call) =>
      call.url === "/api/v1/auth/refresh" ? json(200, auth(2)) : json(401, { error: { code: "unauthorized", message: "the password is not right" } }),
    );
    const { api, store } = client();
    await expect(api.changePassword("wrong", "new password")).rejects.toMatchObject({ status: 401, message: "the password is not right" });
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/me/password", "/api/v1/auth/refresh", "/api/v1/me/password"]);
    expect(store.get()?.accessToken).toBe("access-2");
  });
});

describe("identities, sessions and keys", () => {
  it("reads the user again and keeps it in the session", async () => {
    setup(() => json(200, { user: { ...user, has_password: false }, api_key: null }));
    const { api, store } = client();
    expect((await api.me())?.has_password).toBe(false);
    expect(store.get()?.user.has_password).toBe(false);
  });

  it("lists and unlinks identities", async () => {
    const identity = { id: "i/1", provider: "github", label: "GitHub", email: "a@example.com", created_at: "2025-05-12T10:00:00Z", last_used_at: null };
    setup((call) => (call.method === "GET" ? json(200, { identities: [identity] }) : new Response(null, { status: 204 })));
    const { api } = client();
    expect(await api.identities()).toEqual([identity]);
    expect(await api.unlinkIdentity("i/1")).toBeUndefined();
    expect(calls.map((c) => [c.method, c.url, c.auth])).toEqual([
      ["GET", "/api/v1/me/identities", "Bearer access-1"],
      ["DELETE", "/api/v1/me/identities/i%2F1", "Bearer access-1"],
    ]);
  });

  it("unlinking the last way in is refused with the server's words", async () => {
    setup(() => json(409, { error: { code: "conflict", message: "Set a password first: it is your only way to sign in." } }));
    const { api } = client();
    await expect(api.unlinkIdentity("i1")).rejects.toMatchObject({ status: 409, message: "Set a password first: it is your only way to sign in." });
  });

  it("lists sessions and keys, ends a session and revokes a key", async () => {
    const listing = { sessions: [], api_keys: [] };
    setup((call) => (call.method === "GET" ? json(200, listing) : new Response(null, { status: 204 })));
    const { api } = client();
    expect(await api.signedInSessions()).toEqual(listing);
    await api.endSession("s1");
    await api.revokeApiKey("k1");
    expect(calls.map((c) => [c.method, c.url, c.auth])).toEqual([
      ["GET", "/api/v1/me/sessions", "Bearer access-1"],
      ["DELETE", "/api/v1/me/sessions/s1", "Bearer access-1"],
      ["DELETE", "/api/v1/me/api-keys/k1", "Bearer access-1"],
    ]);
  });
});

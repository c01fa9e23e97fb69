import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError } from "./client";
import { MemoryStorage } from "./fakeStorage";
import { SessionStore } from "./session";
import type { AuthOut } from "./types";

const user = { id: "u1", email: "a@example.com", display_name: "Ann", email_verified: true, has_password: true };
const auth = (n: number, expiresIn = 900): AuthOut => ({
  user,
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "bearer",
  expires_in: expiresIn,
});
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

interface Call {
  url: string;
  method: string;
  auth: string | null;
  body: unknown;
}

let calls: Call[];
let fetchMock: ReturnType<typeof vi.fn>;

function setup(handler: (call: Call) => Response | Promise<Response>) {
  fetchMock = vi.fn(async (url: string, init: RequestInit) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const call: Call = {
      url,
      method: init.method ?? "GET",
      auth: headers.Authorization ?? null,
      body: typeof init.body === "string" ? JSON.parse(init.body) : null,
    };
    calls.push(call);
    return handler(call);
  });
  vi.stubGlobal("fetch", fetchMock);
}

function signedIn(expiresIn = 900): { store: SessionStore; api: ApiClient } {
  const store = new SessionStore(new MemoryStorage());
  store.setFromAuth(auth(1, expiresIn));
  return { store, api: new ApiClient(store) };
}

beforeEach(() => {
  calls = [];
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("ApiClient", () => {
  it("sends the bearer token and JSON body, and reads JSON back", async () => {
    setup(() => json(200, { ok: true }));
    const { api } = signedIn();
    expect(await api.post("/api/v1/projects", { name: "Song" })).toEqual({ ok: true });
    expect(calls).toEqual([{ url: "/api/v1/projects", method: "POST", auth: "Bearer access-1", body: { name: "Song" } }]);
  });

  it("answers undefined for 204", async () => {
    setup(() => new Response(null, { status: 204 }));
    const { api } = signedIn();
    expect(await api.delete("/api/v1/projects/p")).toBeUndefined();
  });

  it("a 401 triggers exactly one refresh shared by concurrent callers, then retries each", async () => {
    let releaseRefresh!: () => void;
    const refreshGate = new Promise<void>((resolve) => (releaseRefresh = resolve));
    setup(async (call) => {
      if (call.url === "/api/v1/auth/refresh") {
        await refreshGate;
        return json(200, auth(2));
      }
      return call.auth === "Bearer access-2" ? json(200, { url: call.url }) : json(401, { error: { code: "unauthorized", message: "expired" } });
    });
    const { api, store } = signedIn();
    const results = Promise.all([api.get("/a"), api.get("/b"), api.get("/c")]);
    await vi.waitFor(() => expect(calls.filter((c) => c.url === "/api/v1/auth/refresh")).toHaveLength(1));
    releaseRefresh();
    expect(await results).toEqual([{ url: "/a" }, { url: "/b" }, { url: "/c" }]);
    const refreshes = calls.filter((c) => c.url === "/api/v1/auth/refresh");
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]).toMatchObject({ method: "POST", auth: null, body: { refresh_token: "refresh-1" } });
    expect(store.get()?.accessToken).toBe("access-2");
    expect(store.get()?.refreshToken).toBe("refresh-2");
    // Three first tries, one refresh, three retries.
    expect(calls).toHaveLength(7);
  });

  it("a refused refresh clears the session and the caller sees the 401", async () => {
    setup((call) =>
      call.url === "/api/v1/auth/refresh"
        ? json(401, { error: { code: "invalid_token", message: "refresh token revoked" } })
        : json(401, { error: { code: "unauthorized", message: "token expired" } }),
    );
    const { api, store } = signedIn();
    const seen: unknown[] = [];
    store.subscribe((s) => seen.push(s));
    const error = await api.get("/api/v1/projects").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: "unauthorized", message: "token expired" });
    expect(store.get()).toBeNull();
    expect(seen).toEqual([null]);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/projects", "/api/v1/auth/refresh"]);
  });

  it("refreshes ahead of time when the access token is about to expire", async () => {
    setup((call) => (call.url === "/api/v1/auth/refresh" ? json(200, auth(2)) : json(200, { auth: call.auth })));
    const { api } = signedIn(10); // expires in 10 s, inside the 30 s margin
    expect(await api.get("/x")).toEqual({ auth: "Bearer access-2" });
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/refresh", "/x"]);
  });

  it("does not refresh anonymous calls or without a session", async () => {
    setup(() => json(401, { error: { code: "bad_credentials", message: "Wrong email or password." } }));
    const store = new SessionStore(new MemoryStorage());
    const api = new ApiClient(store);
    await expect(api.signIn("a@example.com", "nope")).rejects.toMatchObject({ status: 401, code: "bad_credentials" });
    await expect(api.get("/x")).rejects.toMatchObject({ status: 401 });
    expect(calls.map((c) => [c.url, c.auth])).toEqual([
      ["/api/v1/auth/login", null],
      ["/x", null],
    ]);
  });

  it("turns the error envelope into ApiError with its details", async () => {
    const details = { required: "editor", role: "viewer" };
    setup(() => json(403, { error: { code: "forbidden", message: "Editors only.", details } }));
    const { api } = signedIn();
    const error = (await api.patch("/api/v1/projects/p", { name: "x" }).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect([error.status, error.code, error.message, error.details, error.offline]).toEqual([403, "forbidden", "Editors only.", details, false]);
  });

  it("keeps the status when the body is not the envelope (a proxy's page)", async () => {
    setup(() => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const { api } = signedIn();
    await expect(api.get("/x")).rejects.toMatchObject({ status: 502, code: "http_502", message: "Bad Gateway" });
  });

  it("offline: a fetch TypeError becomes ApiError.offline", async () => {
    setup(() => {
      throw new TypeError("Failed to fetch");
    });
    const { api, store } = signedIn();
    const error = (await api.get("/x").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.offline).toBe(true);
    expect(error.status).toBe(0);
    expect(store.get()).not.toBeNull();
  });

  it("offline during a refresh keeps the session", async () => {
    setup((call) => {
      if (call.url === "/api/v1/auth/refresh") throw new TypeError("Failed to fetch");
      return json(401, { error: { code: "unauthorized", message: "expired" } });
    });
    const { api, store } = signedIn();
    await expect(api.get("/x")).rejects.toMatchObject({ status: 0, offline: true });
    expect(store.get()?.refreshToken).toBe("refresh-1");
  });

  it("an abort is passed through, not reported as offline", async () => {
    setup(() => {
      throw new DOMException("aborted", "AbortError");
    });
    const { api } = signedIn();
    await expect(api.get("/x")).rejects.toMatchObject({ name: "AbortError" });
  });

  it("uses a token another tab already rotated instead of refreshing again", async () => {
    const storage = new MemoryStorage();
    const store = new SessionStore(storage);
    store.setFromAuth(auth(1));
    // Another tab rotated the refresh token and stored the new session.
    const other = new SessionStore(storage);
    other.setFromAuth(auth(2));
    setup((call) => (call.auth === "Bearer access-2" ? json(200, {}) : json(401, { error: { code: "unauthorized", message: "x" } })));
    const api = new ApiClient(store);
    expect(await api.get("/x")).toEqual({});
    expect(calls.map((c) => c.url)).toEqual(["/x", "/x"]);
  });

  it("signOut clears the session even offline", async () => {
    setup(() => {
      throw new TypeError("Failed to fetch");
    });
    const { api, store } = signedIn();
    await api.signOut();
    expect(store.get()).toBeNull();
  });
});

// For the pages' tests: a real ApiClient over a fetch that answers from a table of
// "METHOD /path" routes, and the pages rendered inside the services they use.
import { render } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import { vi } from "vitest";
import { ApiClient } from "../../api/client";
import { MemoryStorage } from "../../api/fakeStorage";
import { SessionStore } from "../../api/session";
import type { AuthOut, User } from "../../api/types";
import { ServicesContext } from "../../services";

export interface FakeCall {
  method: string;
  path: string;
  auth: string | null;
  body: unknown;
}

export type FakeRoutes = Record<string, (call: FakeCall) => Response | unknown>;

export const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

export const testUser: User = { id: "u1", email: "ann@example.com", display_name: "Ann", email_verified: true, has_password: true };

export function authOut(n: number, user: User = testUser): AuthOut {
  return { user, access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "bearer", expires_in: 900 };
}

/** Stub fetch with `routes`; an answer that is not a Response is sent as 200 JSON; unknown routes are 404. */
export function fakeServer(routes: FakeRoutes): FakeCall[] {
  const calls: FakeCall[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      const method = init.method ?? "GET";
      const path = new URL(url, "http://test.invalid").pathname;
      const call = { method, path, auth: headers.Authorization ?? null, body: typeof init.body === "string" ? JSON.parse(init.body) : null };
      calls.push(call);
      const route = routes[`${method} ${path}`];
      if (!route) return json(404, { error: { code: "not_found", message: `no ${method} ${path}` } });
      const answer = route(call);
      return answer instanceof Response ? answer : json(200, answer);
    }),
  );
  return calls;
}

/** Render `ui` in StrictMode (effects run twice, as in development) with an ApiClient. */
export function renderWithApi(ui: ReactNode, { user = null as User | null } = {}) {
  const store = new SessionStore(new MemoryStorage());
  if (user) store.setFromAuth(authOut(1, user));
  const api = new ApiClient(store);
  const view = render(
    <StrictMode>
      <ServicesContext.Provider value={{ api }}>{ui}</ServicesContext.Provider>
    </StrictMode>,
  );
  return { ...view, api, store };
}

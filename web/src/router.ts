// A tiny path router: the client's pages are "/", "/login", "/signup",
// "/account", "/account/memory", "/projects/<id>" and the pages emailed links and
// sign-in providers send people to ("/forgot-password", "/reset-password",
// "/verify-email", "/confirm-link", "/auth/done"); the server answers index.html
// for each (api/web_client.py).
import { useSyncExternalStore } from "react";

/** What the sign-in and sign-up pages say on arrival (set by the server's redirects). */
export interface AuthNotice {
  /** "check-email": a provider's address belongs to an account; a link was emailed. */
  notice: string | null;
  provider: string | null;
  error: string | null;
}

/** Pages opened signed out, from an email or a provider: they carry their token in the hash. */
export type RecoveryPage = "forgot-password" | "reset-password" | "verify-email" | "confirm-link" | "auth-done";

export type Route =
  | { page: "projects" }
  | ({ page: "login"; next: string | null } & AuthNotice)
  | ({ page: "signup"; next: string | null } & AuthNotice)
  | { page: "studio"; projectId: string }
  | { page: "memory" }
  | { page: "account"; linked: string | null; error: string | null }
  | { page: RecoveryPage }
  | { page: "not-found" };

const RECOVERY_PAGES: Record<string, RecoveryPage> = {
  "/forgot-password": "forgot-password",
  "/reset-password": "reset-password",
  "/verify-email": "verify-email",
  "/confirm-link": "confirm-link",
  "/auth/done": "auth-done",
};

export function parseRoute(pathname: string, search = ""): Route {
  const query = new URLSearchParams(search);
  const next = query.get("next");
  const path = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  if (path === "/" || path === "") return { page: "projects" };
  if (path === "/login" || path === "/signup") {
    return { page: path === "/login" ? "login" : "signup", next, notice: query.get("notice"), provider: query.get("provider"), error: query.get("error") };
  }
  if (path === "/account/memory") return { page: "memory" };
  if (path === "/account") return { page: "account", linked: query.get("linked"), error: query.get("error") };
  if (Object.hasOwn(RECOVERY_PAGES, path)) return { page: RECOVERY_PAGES[path] };
  const studio = /^\/projects\/([A-Za-z0-9_-]{1,64})$/.exec(path);
  if (studio) return { page: "studio", projectId: studio[1] };
  return { page: "not-found" };
}

/** Pages that work signed out (the rest send a signed-out visitor to /login). */
export function isSignedOutPage(route: Route): boolean {
  return route.page === "login" || route.page === "signup" || Object.values(RECOVERY_PAGES).includes(route.page as RecoveryPage);
}

/**
 * A parameter of a "#token=…&x=…" fragment, or null. Not URLSearchParams: a "+" in
 * a token stays a "+" (only %-escapes are decoded).
 */
export function readHashParam(hash: string, name: string): string | null {
  for (const part of hash.replace(/^#/, "").split("&")) {
    const at = part.indexOf("=");
    if (at < 0 || part.slice(0, at) !== name) continue;
    try {
      return decodeURIComponent(part.slice(at + 1)) || null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Drop the fragment from the address bar (and so from history) once its token is read. */
export function clearHash(): void {
  if (!window.location.hash) return;
  window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function navigate(path: string, { replace = false } = {}): void {
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const snapshot = () => window.location.pathname + window.location.search;

export function useRoute(): Route {
  const location = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(location, window.location.origin);
  return parseRoute(url.pathname, url.search);
}

/**
 * Only same-origin paths are followed after sign-in (no open redirect). Browsers read
 * "/\evil.com" (and "/<tab>/evil.com") as "//evil.com", so the path is resolved
 * the way a browser would and kept only if it stays on this origin.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//")) return "/";
  const base = "https://client.invalid";
  try {
    const url = new URL(next, base);
    return url.origin === base ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}

// A tiny path router: the client's pages are "/", "/login", "/signup",
// "/account/memory" and "/projects/<id>"; the server answers index.html for each
// (api/web_client.py).
import { useSyncExternalStore } from "react";

export type Route =
  | { page: "projects" }
  | { page: "login"; next: string | null }
  | { page: "signup"; next: string | null }
  | { page: "studio"; projectId: string }
  | { page: "memory" }
  | { page: "not-found" };

export function parseRoute(pathname: string, search = ""): Route {
  const next = new URLSearchParams(search).get("next");
  if (pathname === "/" || pathname === "") return { page: "projects" };
  if (pathname === "/login") return { page: "login", next };
  if (pathname === "/signup") return { page: "signup", next };
  if (pathname === "/account/memory" || pathname === "/account/memory/") return { page: "memory" };
  const studio = /^\/projects\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  if (studio) return { page: "studio", projectId: studio[1] };
  return { page: "not-found" };
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

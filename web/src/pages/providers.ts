// Sign-in providers ("Continue with Google"): their names in words, and the page to
// return to after the provider, kept in this tab while the browser is away (the
// server does not send it back to /auth/done).
import type { AuthProvider } from "../api/types";
import { safeNext } from "../router";

export const OAUTH_NEXT_KEY = "jacameno.oauth-next";

/** The provider's label from the server's list, else its name capitalised ("gitlab" → "Gitlab"). */
export function providerLabel(name: string, providers: readonly AuthProvider[]): string {
  const known = providers.find((p) => p.name === name);
  if (known?.label) return known.label;
  return name ? name.charAt(0).toUpperCase() + name.slice(1) : "the provider";
}

/** Keep where to go after the provider (a same-origin path only). */
export function rememberNext(next: string | null, storage: Storage | null = sessionStorageOrNull()): void {
  try {
    if (next) storage?.setItem(OAUTH_NEXT_KEY, safeNext(next));
    else storage?.removeItem(OAUTH_NEXT_KEY);
  } catch {
    // Storage refused (private mode): the person lands on their projects instead.
  }
}

/** The remembered page, once: it is forgotten as it is read. "/" when there is none. */
export function takeRememberedNext(storage: Storage | null = sessionStorageOrNull()): string {
  try {
    const next = storage?.getItem(OAUTH_NEXT_KEY) ?? null;
    storage?.removeItem(OAUTH_NEXT_KEY);
    return safeNext(next);
  } catch {
    return "/";
  }
}

function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

// The account page's words for GET /api/v1/me/sessions (signed-in devices and API
// key use), and the rules a new password is checked against before it is sent.
import type { AuthProvider, KeyUseOut, SessionOut } from "../../api/types";
import { providerLabel } from "../providers";

/** As signup: the server refuses anything else (422). */
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

/** Why the two new passwords cannot be sent, or null. */
export function passwordProblem(password: string, again: string): string | null {
  if (password.length < PASSWORD_MIN_CHARS) return `A password has at least ${PASSWORD_MIN_CHARS} characters.`;
  if (password.length > PASSWORD_MAX_CHARS) return `A password has at most ${PASSWORD_MAX_CHARS} characters.`;
  if (password !== again) return "The two passwords differ: type the same one twice.";
  return null;
}

/** Epoch milliseconds of an ISO-8601 time or of epoch seconds; null when unknown. */
export function toMillis(time: string | number | null | undefined): number | null {
  if (typeof time === "number") return Number.isFinite(time) ? time * 1000 : null;
  if (!time) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : ms;
}

/** "just now", "3 min ago", "2 h ago", "yesterday", "5 days ago", then "on <date>". */
export function timeAgo(time: string | number | null | undefined, now: number = Date.now()): string | null {
  const ms = toMillis(time);
  if (ms === null) return null;
  const minutes = Math.floor(Math.max(0, now - ms) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 30) return `${days} days ago`;
  return `on ${formatDate(time)}`;
}

export function formatDate(time: string | number | null | undefined): string {
  const ms = toMillis(time);
  return ms === null ? "an unknown date" : new Date(ms).toLocaleDateString();
}

/** "with a password", "with Google", … */
export function methodText(method: string, providers: readonly AuthProvider[]): string {
  if (method === "password") return "with a password";
  if (method === "reset") return "with a password reset link";
  if (method === "email-link") return "with an emailed link";
  return `with ${providerLabel(method, providers)}`;
}

/** "United Kingdom (203.0.113.7)", "this computer", "203.0.113.7", or null. */
export function placeText(place: string | null, ip: string | null): string | null {
  if (place && ip) return `${place} (${ip})`;
  return place || ip || null;
}

export function deviceName(device: string | null): string {
  return device?.trim() || "An unknown device";
}

/** "United Kingdom (203.0.113.7) · signed in with Google · last used 3 min ago · since 12/05/2025". */
export function sessionDetails(session: SessionOut, providers: readonly AuthProvider[], now: number = Date.now()): string {
  const used = timeAgo(session.last_used_at ?? session.created_at, now);
  return [
    placeText(session.place, session.ip),
    `signed in ${methodText(session.method, providers)}`,
    used && `last used ${used}`,
    `since ${formatDate(session.created_at)}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

/** The whole session in one line: "Chrome on Linux · United Kingdom · …". */
export function describeSession(session: SessionOut, providers: readonly AuthProvider[], now: number = Date.now()): string {
  return `${deviceName(session.device)} · ${sessionDetails(session, providers, now)}`;
}

/** This device first, then the most recently used. */
export function sortSessions(sessions: readonly SessionOut[]): SessionOut[] {
  const used = (s: SessionOut) => toMillis(s.last_used_at ?? s.created_at) ?? 0;
  return [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || used(b) - used(a));
}

/** "Night Drive · editor · jcm_ab12… · last used 3 min ago · curl/8.5 · United Kingdom (203.0.113.7) · made 12/05/2025". */
export function describeKeyUse(key: KeyUseOut, now: number = Date.now()): string {
  const used = timeAgo(key.last_used_at, now);
  return [
    key.project_name || "a project",
    key.role,
    `${key.prefix}…`,
    used ? `last used ${used}` : "never used",
    used && key.device,
    used && placeText(key.place, key.ip),
    `made ${formatDate(key.created_at)}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

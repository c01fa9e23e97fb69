// What the presence list shows of one awareness state. Browsers publish
// `user` = {name, color, colorLight, kind, id}; bots may publish other shapes
// (a bare `name`, no colour...), so every field is read defensively.
import type { Peer } from "../doc/hooks";
import { colorFor } from "./presenceColors";
import { songTime } from "./commentThreads";

export interface PersonShown {
  clientId: number;
  /** The account behind the state when it says (one person may have several tabs open). */
  userId: string | null;
  name: string;
  initials: string;
  color: string;
  isBot: boolean;
  isLocal: boolean;
  /** "playing at 0:31", "stopped at 1:02", or null when unknown. */
  activity: string | null;
}

const MAX_NAME = 60;
const COLOR = /^#[0-9a-f]{3,8}$|^(rgb|hsl)a?\([0-9.,%\s]+\)$/i;

const text = (v: unknown): string | null => {
  if (typeof v !== "string") return null;
  const trimmed = v.replace(/\s+/g, " ").trim();
  return trimmed ? trimmed.slice(0, MAX_NAME) : null;
};

const record = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** Up to two letters: first letters of the first and last words ("Ana Lima" -> "AL"). */
export function initialsOf(name: string): string {
  const local = name.includes("@") && !name.includes(" ") ? name.slice(0, name.indexOf("@")) : name;
  const words = local.split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = Array.from(words[0])[0] ?? "";
  const last = words.length > 1 ? (Array.from(words[words.length - 1])[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** The person (or bot) behind an awareness state, or null if it names nobody. */
export function personOf(peer: Peer, nowMs: number = Date.now()): PersonShown | null {
  const state = record(peer.state);
  if (!state) return null;
  const user = record(state.user);
  const name = text(user?.name) ?? (user ? null : text(state.name));
  if (!name) return null;
  const kind = user ? user.kind : state.kind;
  const isBot = kind === "bot" || kind === "agent" || !user;
  const rawColor = user?.color ?? state.color;
  const color = typeof rawColor === "string" && COLOR.test(rawColor) ? rawColor : colorFor(String(user?.id ?? name)).color;
  const id = user?.id ?? state.id;
  return {
    clientId: peer.clientId,
    userId: typeof id === "string" && id ? id : null,
    name,
    initials: initialsOf(name),
    color,
    isBot,
    isLocal: peer.isLocal,
    activity: activityOf(state.playhead, nowMs),
  };
}

/** `playhead` = {time_s, playing, at}: while playing, time_s was true at `at` (ms). */
function activityOf(raw: unknown, nowMs: number): string | null {
  const playhead = record(raw);
  if (!playhead || playhead.playing !== true) return null;
  const time = playhead.time_s;
  if (typeof time !== "number" || !Number.isFinite(time) || time < 0) return null;
  const at = playhead.at;
  const since = typeof at === "number" && Number.isFinite(at) ? Math.min(Math.max(0, (nowMs - at) / 1000), 3600) : 0;
  return `playing at ${songTime(time + since)}`;
}

/**
 * Everyone present once: the local tab first, then by name. A person with several
 * tabs open shows once (as "you" if one of them is this tab, playing if any plays).
 */
export function peopleOf(peers: Peer[], nowMs: number = Date.now()): PersonShown[] {
  const people = peers.map((peer) => personOf(peer, nowMs)).filter((p): p is PersonShown => p !== null);
  people.sort((a, b) => Number(b.isLocal) - Number(a.isLocal) || a.name.localeCompare(b.name) || a.clientId - b.clientId);
  const byUser = new Map<string, PersonShown>();
  const out: PersonShown[] = [];
  for (const p of people) {
    const seen = p.userId ? byUser.get(p.userId) : undefined;
    if (seen) {
      if (!seen.activity && p.activity) seen.activity = p.activity;
      continue;
    }
    if (p.userId) byUser.set(p.userId, p);
    out.push(p);
  }
  return out;
}

/** "Ana Lima (you), bot, playing at 0:31" — what a screen reader hears for a person. */
export function accessibleName(p: PersonShown): string {
  return [p.name + (p.isLocal ? " (you)" : ""), p.isBot ? "bot" : null, p.activity].filter(Boolean).join(", ");
}

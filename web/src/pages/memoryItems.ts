// The AI memory page's view of GET /api/v1/me/memory: items grouped by kind, newest
// first, and each item's details in words.
import type { MemoryItem, MemoryKind, MemoryOut, MemoryVerdict } from "../api/types";

export const KIND_TITLES: Record<MemoryKind, string> = {
  lyrics: "Lyrics",
  mix_preset: "Mix presets",
  master_preset: "Master presets",
};
const KINDS = Object.keys(KIND_TITLES) as MemoryKind[];

const VERDICT_TEXT: Record<MemoryVerdict, string> = {
  written: "You wrote",
  accepted: "You accepted",
  edited: "You accepted with edits",
  rejected: "You rejected",
  chosen: "You chose",
};

/** Items of each kind that has any, newest first (ties keep the server's order), in a fixed order of kinds. */
export function groupMemory(items: MemoryItem[]): Array<{ kind: MemoryKind; title: string; items: MemoryItem[] }> {
  return KINDS.map((kind) => ({
    kind,
    title: KIND_TITLES[kind],
    items: items.filter((i) => i.kind === kind).sort((a, b) => b.created_at - a.created_at),
  })).filter((group) => group.items.length > 0);
}

/** "You accepted · in Night Drive · style: country · 12/05/2025, 14:02". */
export function describeMemoryItem(item: MemoryItem, projectName: (id: string) => string | null): string {
  const parts = [VERDICT_TEXT[item.verdict] ?? item.verdict];
  if (item.project_id) parts.push(`in ${projectName(item.project_id) ?? "a project you left"}`);
  if (item.style) parts.push(`style: ${item.style}`);
  if (Number.isFinite(item.created_at)) parts.push(new Date(item.created_at * 1000).toLocaleString());
  return parts.join(" · ");
}

/** A short name for an item's button ("Forget “Under the neon…”"). */
export function shortText(text: string, max = 40): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The answer with only well-formed items (an older server may lack fields). */
export function readMemory(raw: unknown): MemoryOut {
  const body = (raw && typeof raw === "object" ? raw : {}) as Partial<MemoryOut>;
  const items = Array.isArray(body.items) ? body.items : [];
  return {
    embedding_model: body.embedding_model ?? { name: "unknown", dimensions: 0 },
    style_version: typeof body.style_version === "string" ? body.style_version : "",
    items: items.filter(
      (i): i is MemoryItem =>
        !!i && typeof i.id === "string" && typeof i.text === "string" && KINDS.includes(i.kind) && typeof i.created_at === "number",
    ),
  };
}

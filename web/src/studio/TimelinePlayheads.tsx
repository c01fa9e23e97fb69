// This tab's playhead and every peer's, moved each animation frame through refs and
// CSS transforms (React renders them only when someone joins, leaves or changes colour).
// Peers publish {time_s, playing, at} a few times a second; between updates their
// position is extrapolated from `at`.
import { useEffect, useRef } from "react";
import type { Awareness } from "y-protocols/awareness";
import { usePeers } from "../doc/hooks";
import { onFrame } from "../audio/frames";
import type { Player, SharedPlayhead } from "../audio/player";

interface PeerHead {
  clientId: number;
  name: string;
  color: string;
  playhead: SharedPlayhead;
}

function readPlayhead(value: unknown): SharedPlayhead | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (typeof v.time_s !== "number" || !Number.isFinite(v.time_s) || typeof v.at !== "number") return null;
  return { time_s: Math.max(0, v.time_s), playing: v.playing === true, at: v.at };
}

/** Where a peer's playhead is now. */
export function extrapolate(head: SharedPlayhead, nowMs: number): number {
  if (!head.playing) return head.time_s;
  // A peer that stopped publishing (closed laptop) is not run on forever.
  const elapsed = Math.min(Math.max(0, nowMs - head.at), 10_000) / 1000;
  return head.time_s + elapsed;
}

export function TimelinePlayheads({
  player,
  awareness,
  pxPerS,
  scroller,
  follow,
}: {
  player: Player;
  awareness: Awareness;
  pxPerS: number;
  scroller: React.RefObject<HTMLDivElement>;
  /** Keep the playhead in view while playing. */
  follow: boolean;
}) {
  const peers = usePeers(awareness);
  const heads: PeerHead[] = [];
  for (const peer of peers) {
    if (peer.isLocal) continue;
    const playhead = readPlayhead(peer.state.playhead);
    const user = (peer.state.user ?? {}) as { name?: unknown; color?: unknown };
    if (!playhead) continue;
    heads.push({
      clientId: peer.clientId,
      name: typeof user.name === "string" ? user.name : "Someone",
      color: typeof user.color === "string" ? user.color : "#a9b1c0",
      playhead,
    });
  }
  const local = useRef<HTMLDivElement>(null);
  const peerEls = useRef(new Map<number, HTMLDivElement>());
  const latest = useRef({ heads, pxPerS, follow });
  latest.current = { heads, pxPerS, follow };

  useEffect(
    () =>
      onFrame(() => {
        const { heads: current, pxPerS: zoom, follow: following } = latest.current;
        const view = scroller.current;
        const scrollLeft = view?.scrollLeft ?? 0;
        const t = player.position();
        const x = t * zoom;
        if (local.current) {
          local.current.style.transform = `translateX(${x}px)`;
          local.current.style.visibility = x + 1 < scrollLeft ? "hidden" : "visible";
        }
        if (following && player.playing && view) {
          const headerW = view.firstElementChild?.querySelector<HTMLElement>(".arr-corner")?.offsetWidth ?? 0;
          const lanesW = view.clientWidth - headerW;
          if (x > scrollLeft + lanesW - 24 || x < scrollLeft) view.scrollLeft = Math.max(0, x - 24);
        }
        const now = Date.now();
        for (const head of current) {
          const el = peerEls.current.get(head.clientId);
          if (!el) continue;
          const px = extrapolate(head.playhead, now) * zoom;
          el.style.transform = `translateX(${px}px)`;
          el.style.visibility = px + 1 < scrollLeft ? "hidden" : "visible";
        }
      }),
    [player, scroller],
  );

  return (
    <div className="arr-playheads" aria-hidden="true">
      {heads.map((head) => (
        <div
          key={head.clientId}
          className="peer-playhead"
          style={{ ["--peer" as string]: head.color }}
          ref={(el) => {
            if (el) peerEls.current.set(head.clientId, el);
            else peerEls.current.delete(head.clientId);
          }}
        >
          <span className="peer-playhead-label">{head.name}</span>
        </div>
      ))}
      <div className="local-playhead" ref={local} />
    </div>
  );
}

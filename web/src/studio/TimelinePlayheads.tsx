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

  useEffect(() => {
    // Layout is read from scroll/resize events, never inside a frame (no forced layout),
    // and styles are written only when a value changes.
    const view = scroller.current;
    const geometry = { scrollLeft: 0, lanesW: 0 };
    const measure = () => {
      if (!view) return;
      geometry.scrollLeft = view.scrollLeft;
      const header = view.querySelector<HTMLElement>(".arr-corner")?.offsetWidth ?? 0;
      geometry.lanesW = view.clientWidth - header;
    };
    measure();
    view?.addEventListener("scroll", measure, { passive: true });
    const observer = new ResizeObserver(measure);
    if (view) observer.observe(view);
    const shown = new WeakMap<HTMLElement, string>();
    const place = (el: HTMLElement, x: number) => {
      const value = x + 1 < geometry.scrollLeft ? "hidden" : `translateX(${Math.round(x * 2) / 2}px)`;
      if (shown.get(el) === value) return;
      shown.set(el, value);
      if (value === "hidden") el.style.visibility = "hidden";
      else {
        el.style.visibility = "visible";
        el.style.transform = value;
      }
    };
    const stop = onFrame(() => {
      const { heads: current, pxPerS: zoom, follow: following } = latest.current;
      const x = player.position() * zoom;
      if (local.current) place(local.current, x);
      if (following && player.playing && view && geometry.lanesW > 0) {
        if (x > geometry.scrollLeft + geometry.lanesW - 24 || x < geometry.scrollLeft) view.scrollLeft = Math.max(0, x - 24);
      }
      const now = Date.now();
      for (const head of current) {
        const el = peerEls.current.get(head.clientId);
        if (el) place(el, extrapolate(head.playhead, now) * zoom);
      }
    });
    return () => {
      stop();
      view?.removeEventListener("scroll", measure);
      observer.disconnect();
    };
  }, [player, scroller]);

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

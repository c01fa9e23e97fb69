// Everyone in the room, compact in the top bar: a round avatar with initials in the
// person's colour and the name (never colour alone), "(you)" for this tab, 🤖 for
// bots and what they are doing when known. At phone width only the avatars show;
// names stay in a tooltip and in the accessible text.
import { useEffect, useState } from "react";
import { usePeers } from "../doc/hooks";
import { useStudio } from "./context";
import { accessibleName, peopleOf } from "./presence";
import "./presence.css";

/** Re-render every few seconds while someone plays, so "playing at 0:31" moves on. */
function useTick(active: boolean, ms = 2000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return now;
}

export function PresenceList() {
  const { awareness } = useStudio();
  const peers = usePeers(awareness);
  const anyonePlaying = peers.some((p) => (p.state?.playhead as { playing?: unknown } | undefined)?.playing === true);
  const now = useTick(anyonePlaying);
  const people = peopleOf(peers, Math.max(now, Date.now()));

  return (
    <ul className="presence" aria-label="People here">
      {people.map((p) => {
        const name = accessibleName(p);
        return (
          <li key={p.clientId} className={`presence-person${p.isLocal ? " is-local" : ""}`} title={name}>
            <span className="presence-avatar" style={{ backgroundColor: p.color }} aria-hidden="true">
              {p.isBot ? "🤖" : p.initials}
            </span>
            <span className="presence-text">
              <span className="presence-name">
                {p.name}
                {p.isLocal && <span className="presence-you"> (you)</span>}
                {p.isBot && <span className="sr-only">, bot</span>}
              </span>
              {p.activity && (
                <span className="presence-activity">
                  <span className="sr-only">, </span>
                  {p.activity}
                </span>
              )}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

import { useSyncExternalStore } from "react";
import type { Player, PlayerState } from "./player";

/** The player's transport state (playing, loop, loading); re-renders on changes, not per frame. */
export function usePlayerState(player: Player): PlayerState {
  return useSyncExternalStore(
    (notify) => player.subscribe(notify),
    () => player.getState(),
  );
}

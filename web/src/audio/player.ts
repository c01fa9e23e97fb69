// Placeholder until the Web Audio engine lands (replaced by the playback work).
import type * as Y from "yjs";
import type { Awareness } from "y-protocols/awareness";
import type { ApiClient } from "../api/client";

export class Player {
  playing = false;
  constructor(
    readonly doc: Y.Doc,
    readonly api: ApiClient,
    readonly awareness: Awareness,
  ) {}
  position(): number {
    return 0;
  }
  subscribe(_listener: () => void): () => void {
    return () => undefined;
  }
  destroy(): void {}
}

// One requestAnimationFrame loop for everything that follows the playhead (the
// timeline's playheads, the position display). Callbacks write to the DOM directly:
// React never re-renders on animation frames.
const callbacks = new Set<(now: number) => void>();
let handle: number | null = null;

function frame(now: number): void {
  handle = null;
  for (const cb of [...callbacks]) cb(now);
  if (callbacks.size > 0) handle = requestAnimationFrame(frame);
}

export function onFrame(cb: (now: number) => void): () => void {
  callbacks.add(cb);
  if (handle === null) handle = requestAnimationFrame(frame);
  return () => {
    callbacks.delete(cb);
    if (callbacks.size === 0 && handle !== null) {
      cancelAnimationFrame(handle);
      handle = null;
    }
  };
}

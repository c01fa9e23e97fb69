// A stable colour per user, from a palette with enough contrast on the dark theme.
const PALETTE = ["#f5b642", "#4fc3f7", "#81c784", "#e57373", "#ba68c8", "#ffb74d", "#4db6ac", "#f06292", "#aed581", "#9575cd"];

export function colorFor(id: string): { color: string; colorLight: string } {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  const color = PALETTE[hash % PALETTE.length];
  return { color, colorLight: `${color}33` };
}

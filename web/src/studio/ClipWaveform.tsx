// A clip's waveform: the region offsetS..offsetS+durationS of its asset's peaks drawn
// once into an image, repeated along the clip once per loop (a CSS background, so a clip
// looped a thousand times is still one element), with the repeats' boundaries marked.
import { useEffect, useState } from "react";
import type { Peaks } from "../audio/peaks";

/** Widest canvas drawn; wider regions stretch it (the peaks have less detail than that anyway). */
const MAX_CANVAS_PX = 4096;

/** Height of the drawn waveform image (CSS stretches it to the clip). */
const WAVE_HEIGHT_PX = 96;

/**
 * The part offsetS..offsetS+durationS of the peaks, drawn once per zoom level and span
 * into an image (not a live canvas: hundreds of canvases would each be a compositing
 * layer, and every repaint of the page would pay for them); `regionPx` wide, repeated
 * `loops` times.
 */
export function Waveform({ peaks, offsetS, durationS, regionPx, loops }: { peaks: Peaks; offsetS: number; durationS: number; regionPx: number; loops: number }) {
  const [url, setUrl] = useState<string | null>(null);
  const pixels = Math.max(1, Math.min(MAX_CANVAS_PX, Math.round(regionPx)));

  useEffect(() => {
    let cancelled = false;
    let made: string | null = null;
    const canvas = document.createElement("canvas");
    canvas.width = pixels;
    canvas.height = WAVE_HEIGHT_PX;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    drawPeaks(ctx, peaks, offsetS, durationS, pixels, WAVE_HEIGHT_PX);
    canvas.toBlob((blob) => {
      if (cancelled || !blob) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      cancelled = true;
      // The previous image stays on screen until the next one is ready, then goes.
      if (made) setTimeout(() => URL.revokeObjectURL(made as string), 1000);
    };
  }, [peaks, offsetS, durationS, pixels]);

  const size = `${regionPx}px 100%`;
  return (
    <span
      className={`clip-wave${loops > 1 ? " is-looped" : ""}`}
      data-loops={loops}
      style={{
        backgroundImage: url ? `url("${url}")` : undefined,
        backgroundSize: size,
      }}
    >
      {loops > 1 && <span className="clip-repeats" style={{ backgroundSize: `${regionPx}px 100%` }} />}
    </span>
  );
}

export function drawPeaks(ctx: CanvasRenderingContext2D, peaks: Peaks, offsetS: number, durationS: number, width: number, height: number): void {
  ctx.clearRect(0, 0, width, height);
  const points = peaks.min.length;
  if (points === 0 || !(peaks.durationS > 0)) return;
  const perSecond = points / peaks.durationS;
  const first = offsetS * perSecond;
  const perPixel = (durationS * perSecond) / width;
  // Quiet takes are drawn up to 4x taller (relative shape matters more than level here).
  const scale = (height / 2) * (peaks.peak > 0 ? Math.min(4, 0.95 / peaks.peak) : 1);
  const centre = height / 2;
  ctx.fillStyle = "rgba(236, 239, 244, 0.78)";
  for (let x = 0; x < width; x++) {
    const from = Math.floor(first + x * perPixel);
    const to = Math.max(from + 1, Math.floor(first + (x + 1) * perPixel));
    if (from >= points) break;
    let low = 1;
    let high = -1;
    for (let i = Math.max(0, from); i < Math.min(points, to); i++) {
      if (peaks.min[i] < low) low = peaks.min[i];
      if (peaks.max[i] > high) high = peaks.max[i];
    }
    if (high < low) continue;
    ctx.fillRect(x, centre - high * scale, 1, Math.max(1, (high - low) * scale));
  }
}

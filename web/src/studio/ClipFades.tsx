// A clip's fades on the timeline: the ramps drawn over the clip in the shape of their
// curves (the part the fade takes away is shaded), and, on the selected clip, a handle
// per fade to drag its length. The handles are sliders beside the clip (not inside its
// button), so the keyboard reaches them: arrows change the length by 50 ms (Shift: 5 ms),
// Page Up/Down by half a second, Home and End to none and the most that fits.
import { useRef } from "react";
import type React from "react";
import type { FadeCurve } from "../doc/model";
import { fadeGain } from "../audio/arrangement";
import { formatDuration } from "../timeline/math";

const RAMP_SAMPLES = 24;
const KEY_STEP_S = 0.05;
const FINE_STEP_S = 0.005;
const PAGE_STEP_S = 0.5;

export interface Fades {
  fadeInS: number;
  fadeOutS: number;
  fadeInCurve: FadeCurve;
  fadeOutCurve: FadeCurve;
}

/** `[x px, gain]` along a fade-in `widthPx` wide (a fade-out is the mirror). */
function rampPoints(curve: FadeCurve, widthPx: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (let i = 0; i <= RAMP_SAMPLES; i++) points.push([(widthPx * i) / RAMP_SAMPLES, fadeGain(curve, i / RAMP_SAMPLES)]);
  return points;
}

/** The fade ramps over a clip `widthPx` wide (y: 0 at the top, 100 at the bottom). */
export function FadeRamps({ fades, pxPerS, widthPx }: { fades: Fades; pxPerS: number; widthPx: number }) {
  const inPx = Math.min(widthPx, fades.fadeInS * pxPerS);
  const outPx = Math.min(widthPx, fades.fadeOutS * pxPerS);
  if (inPx <= 0 && outPx <= 0) return null;
  const y = (gain: number) => (100 * (1 - gain)).toFixed(2);
  const fadeIn = rampPoints(fades.fadeInCurve, inPx);
  const fadeOut = rampPoints(fades.fadeOutCurve, outPx).map(([x, gain]): [number, number] => [widthPx - x, gain]);
  const line = (points: Array<[number, number]>) => points.map(([x, gain]) => `${x.toFixed(1)},${y(gain)}`).join(" ");
  return (
    <svg className="clip-fades" viewBox={`0 0 ${Math.max(1, widthPx)} 100`} preserveAspectRatio="none" aria-hidden="true">
      {inPx > 0 && (
        <g className="clip-fade-in" data-fade-px={inPx.toFixed(1)}>
          <polygon points={`0,0 ${line(fadeIn)} ${inPx.toFixed(1)},0`} />
          <polyline points={line(fadeIn)} vectorEffect="non-scaling-stroke" />
        </g>
      )}
      {outPx > 0 && (
        <g className="clip-fade-out" data-fade-px={outPx.toFixed(1)}>
          <polygon points={`${widthPx.toFixed(1)},0 ${line(fadeOut)} ${(widthPx - outPx).toFixed(1)},0`} />
          <polyline points={line(fadeOut)} vectorEffect="non-scaling-stroke" />
        </g>
      )}
    </svg>
  );
}

export interface FadeHandleProps {
  which: "in" | "out";
  /** The clip's left edge and width on the lane, px. */
  leftPx: number;
  widthPx: number;
  pxPerS: number;
  valueS: number;
  maxS: number;
  clipName: string;
  /** A new length while dragging (shown, not written). */
  onDraft(valueS: number | null): void;
  /** Write a length. */
  onCommit(valueS: number): void;
}

export function FadeHandle({ which, leftPx, widthPx, pxPerS, valueS, maxS, clipName, onDraft, onCommit }: FadeHandleProps) {
  const drag = useRef<{ pointerId: number; x0: number; start: number; value: number } | null>(null);
  const clampS = (s: number) => Math.round(Math.min(maxS, Math.max(0, s)) * 1000) / 1000;
  const x = which === "in" ? leftPx + Math.min(widthPx, valueS * pxPerS) : leftPx + widthPx - Math.min(widthPx, valueS * pxPerS);
  const name = which === "in" ? "Fade in" : "Fade out";

  const onKeyDown = (event: React.KeyboardEvent) => {
    const step = event.shiftKey ? FINE_STEP_S : KEY_STEP_S;
    // The fade-out's handle sits at the clip's end: Right shortens it, as the handle moves right.
    const towardsEnd = which === "in" ? 1 : -1;
    let next: number | null = null;
    if (event.key === "ArrowRight") next = valueS + step * towardsEnd;
    else if (event.key === "ArrowLeft") next = valueS - step * towardsEnd;
    else if (event.key === "ArrowUp") next = valueS + step;
    else if (event.key === "ArrowDown") next = valueS - step;
    else if (event.key === "PageUp") next = valueS + PAGE_STEP_S;
    else if (event.key === "PageDown") next = valueS - PAGE_STEP_S;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = maxS;
    if (next === null) return;
    event.preventDefault();
    event.stopPropagation();
    onCommit(clampS(next));
  };

  return (
    <span
      role="slider"
      tabIndex={0}
      className={`fade-handle fade-handle-${which}`}
      aria-label={`${name} of ${clipName}`}
      aria-valuemin={0}
      aria-valuemax={Number(maxS.toFixed(3))}
      aria-valuenow={Number(valueS.toFixed(3))}
      aria-valuetext={valueS > 0 ? formatDuration(valueS) : "none"}
      title={`${name}: ${valueS > 0 ? formatDuration(valueS) : "none"} (drag, or arrow keys)`}
      style={{ transform: `translateX(${x}px)` }}
      onKeyDown={onKeyDown}
      onPointerDown={(event) => {
        if (event.button !== 0) return;
        event.stopPropagation();
        event.currentTarget.setPointerCapture(event.pointerId);
        drag.current = { pointerId: event.pointerId, x0: event.clientX, start: valueS, value: valueS };
      }}
      onPointerMove={(event) => {
        const current = drag.current;
        if (!current || current.pointerId !== event.pointerId) return;
        const deltaS = (event.clientX - current.x0) / pxPerS;
        current.value = clampS(current.start + (which === "in" ? deltaS : -deltaS));
        onDraft(current.value);
      }}
      onPointerUp={(event) => {
        const current = drag.current;
        if (!current || current.pointerId !== event.pointerId) return;
        drag.current = null;
        onDraft(null);
        if (current.value !== current.start) onCommit(current.value);
      }}
      onPointerCancel={() => {
        drag.current = null;
        onDraft(null);
      }}
    />
  );
}

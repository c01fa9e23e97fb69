// One clip on a lane: its waveform, drag to move (in time and onto another track),
// edge drags to trim, and the keyboard. A drag is shown locally and written to the
// document once, on release (one transaction): intermediate writes would put dozens of
// updates into the shared history per gesture, and a move onto another track changes
// the clip's id, so peers would see clips flicker in and out.
import { memo, useEffect, useLayoutEffect, useRef, useState } from "react";
import type React from "react";
import type { ApiClient } from "../api/client";
import type { Clip } from "../doc/model";
import { usePeaks, type Peaks } from "../audio/peaks";
import { clampMove, formatBarBeat, formatDuration, snapTime, trimEnd, trimStart, type ClipSpan, type TimeGrid } from "../timeline/math";

export interface ClipActions {
  /** Select a clip (null: none). */
  select(clip: Clip | null): void;
  /** True once when this clip should take the keyboard focus (after a move or delete). */
  takeFocus(clipId: string): boolean;
  /** Commit a move: new start, and how many tracks down (negative: up). */
  move(clip: Clip, startS: number, trackDelta: number): void;
  trim(clip: Clip, span: ClipSpan): void;
  /** Keyboard: nudge by a grid step or a bar (direction ±1). */
  nudge(clip: Clip, direction: 1 | -1, bar: boolean): void;
  split(clip: Clip): void;
  remove(clip: Clip): void;
  /** The asset's length for trimming (null: unknown). */
  assetLength(clip: Clip): Promise<number | null>;
}

export interface TimelineClipProps {
  clip: Clip;
  trackName: string;
  pxPerS: number;
  grid: TimeGrid;
  stepS: number;
  snap: boolean;
  selected: boolean;
  canEdit: boolean;
  api: ApiClient;
  actions: ClipActions;
  helpId: string;
}

type Mode = "move" | "start" | "end";

interface Drag {
  mode: Mode;
  pointerId: number;
  x0: number;
  y0: number;
  laneH: number;
  moved: boolean;
  span: ClipSpan;
  trackDelta: number;
  assetS: number | null;
}

/** Widest canvas drawn; wider clips stretch it (the peaks have less detail than that anyway). */
const MAX_CANVAS_PX = 4096;
const DRAG_THRESHOLD_PX = 3;

export function clipLabel(trackName: string, clip: Pick<Clip, "startS" | "durationS">, grid: TimeGrid): string {
  return `Clip ${trackName} at ${formatBarBeat(clip.startS, grid)}, ${formatDuration(clip.durationS)}`;
}

function TimelineClipView({ clip, trackName, pxPerS, grid, stepS, snap, selected, canEdit, api, actions, helpId }: TimelineClipProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const dragRef = useRef<Drag | null>(null);
  const peaks = usePeaks(api, clip.assetId);

  const span: ClipSpan = drag?.span ?? clip;
  const left = span.startS * pxPerS;
  const width = Math.max(2, span.durationS * pxPerS);

  useLayoutEffect(() => {
    if (selected && ref.current && document.activeElement !== ref.current && ref.current.isConnected) {
      // Only when asked (a move to another track or a delete gave this clip the focus).
      if (actions.takeFocus(clip.id)) ref.current.focus();
    }
  });

  const update = (next: Drag | null) => {
    dragRef.current = next;
    setDrag(next);
  };

  const onPointerDown = (event: React.PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    actions.select(clip);
    if (!canEdit) return;
    const edge = (event.target as HTMLElement).dataset.edge as Mode | undefined;
    const lane = ref.current?.parentElement;
    event.currentTarget.setPointerCapture(event.pointerId);
    const next: Drag = {
      mode: edge ?? "move",
      pointerId: event.pointerId,
      x0: event.clientX,
      y0: event.clientY,
      laneH: lane?.getBoundingClientRect().height || 72,
      moved: false,
      span: { startS: clip.startS, offsetS: clip.offsetS, durationS: clip.durationS },
      trackDelta: 0,
      assetS: null,
    };
    update(next);
    if (next.mode === "end") {
      void actions.assetLength(clip).then((length) => {
        if (dragRef.current === next) dragRef.current.assetS = length;
      });
    }
  };

  const onPointerMove = (event: React.PointerEvent<HTMLDivElement>) => {
    const current = dragRef.current;
    if (!current || current.pointerId !== event.pointerId) return;
    const dx = event.clientX - current.x0;
    const dy = event.clientY - current.y0;
    if (!current.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
    const snapOn = snap && !event.altKey;
    const deltaS = dx / pxPerS;
    let next: ClipSpan;
    let trackDelta = 0;
    if (current.mode === "move") {
      next = { ...clip, startS: clampMove(snapTime(clip.startS + deltaS, stepS, snapOn)) };
      trackDelta = Math.round(dy / current.laneH);
    } else if (current.mode === "start") {
      next = trimStart(clip, snapTime(clip.startS + deltaS, stepS, snapOn));
    } else {
      next = trimEnd(clip, snapTime(clip.startS + clip.durationS + deltaS, stepS, snapOn), current.assetS);
    }
    update({ ...current, moved: true, span: { startS: next.startS, offsetS: next.offsetS, durationS: next.durationS }, trackDelta });
  };

  const finish = (event: React.PointerEvent<HTMLDivElement>, commit: boolean) => {
    const current = dragRef.current;
    if (!current || current.pointerId !== event.pointerId) return;
    update(null);
    if (!commit || !current.moved) return;
    if (current.mode === "move") {
      if (current.span.startS !== clip.startS || current.trackDelta !== 0) actions.move(clip, current.span.startS, current.trackDelta);
    } else if (current.span.startS !== clip.startS || current.span.durationS !== clip.durationS) {
      actions.trim(clip, current.span);
    }
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      actions.select(null);
      return;
    }
    if (!canEdit) return;
    const handled = () => {
      event.preventDefault();
      event.stopPropagation();
    };
    switch (event.key) {
      case "ArrowLeft":
      case "ArrowRight":
        handled();
        actions.nudge(clip, event.key === "ArrowRight" ? 1 : -1, event.shiftKey);
        break;
      case "ArrowUp":
      case "ArrowDown":
        handled();
        actions.move(clip, clip.startS, event.key === "ArrowDown" ? 1 : -1);
        break;
      case "s":
      case "S":
        handled();
        actions.split(clip);
        break;
      case "Delete":
      case "Backspace":
        handled();
        actions.remove(clip);
        break;
    }
  };

  const status = peaks.peaks ? null : peaks.status === "error" ? "waveform unavailable" : "analysing…";
  const gainText = clip.gainDb !== 0 ? ` (${clip.gainDb > 0 ? "+" : ""}${clip.gainDb.toFixed(1)} dB)` : "";
  const label = clipLabel(trackName, span, grid);

  return (
    <div
      ref={ref}
      role="button"
      tabIndex={0}
      aria-pressed={selected}
      aria-describedby={canEdit ? helpId : undefined}
      data-clip-id={clip.id}
      className={`clip${selected ? " is-selected" : ""}${drag?.moved ? " is-dragging" : ""}${canEdit ? " is-editable" : ""}`}
      style={{
        transform: `translate(${left}px, ${drag ? drag.trackDelta * drag.laneH : 0}px)`,
        width,
      }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={(e) => finish(e, true)}
      onPointerCancel={(e) => finish(e, false)}
      onLostPointerCapture={(e) => finish(e, true)}
      onFocus={() => actions.select(clip)}
      onKeyDown={onKeyDown}
      title={label}
    >
      {/* The accessible name is the text inside, visible and not (axe:
          label-content-name-mismatch): "Clip Drums at 1.1.000, 12.5 s analysing…". */}
      <span className="sr-only">Clip </span>
      <span className="clip-name">
        {trackName}
        {gainText}
      </span>
      <span className="sr-only">{label.slice(`Clip ${trackName}`.length)} </span>
      {peaks.peaks ? (
        <Waveform peaks={peaks.peaks} offsetS={span.offsetS} durationS={span.durationS} widthPx={width} />
      ) : (
        <span className="clip-status">{status}</span>
      )}
      {canEdit && (
        <>
          <span className="clip-edge clip-edge-start" data-edge="start" aria-hidden="true" />
          <span className="clip-edge clip-edge-end" data-edge="end" aria-hidden="true" />
        </>
      )}
    </div>
  );
}

const sameClip = (a: Clip, b: Clip) =>
  a.id === b.id && a.trackId === b.trackId && a.assetId === b.assetId && a.startS === b.startS && a.offsetS === b.offsetS && a.durationS === b.durationS && a.gainDb === b.gainDb;

export const TimelineClip = memo(
  TimelineClipView,
  (a, b) =>
    sameClip(a.clip, b.clip) &&
    a.trackName === b.trackName &&
    a.pxPerS === b.pxPerS &&
    a.grid.bpm === b.grid.bpm &&
    a.grid.beatsPerBar === b.grid.beatsPerBar &&
    a.stepS === b.stepS &&
    a.snap === b.snap &&
    a.selected === b.selected &&
    a.canEdit === b.canEdit &&
    a.api === b.api &&
    a.actions === b.actions &&
    a.helpId === b.helpId,
);

/** Height of the drawn waveform image (CSS stretches it to the clip). */
const WAVE_HEIGHT_PX = 96;

/**
 * The part offsetS..offsetS+durationS of the peaks, drawn once per zoom level and span
 * into an image (not a live canvas: hundreds of canvases would each be a compositing
 * layer, and every repaint of the page would pay for them).
 */
function Waveform({ peaks, offsetS, durationS, widthPx }: { peaks: Peaks; offsetS: number; durationS: number; widthPx: number }) {
  const [url, setUrl] = useState<string | null>(null);
  const pixels = Math.max(1, Math.min(MAX_CANVAS_PX, Math.round(widthPx)));

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

  return url ? <img className="clip-wave" src={url} alt="" draggable={false} /> : <span className="clip-wave" />;
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

// One clip on a lane: its waveform (repeated per loop), its fades, drag to move (in time
// and onto another track), edge drags to trim (on a looped clip the end edge sets the
// loop count), fade handles when selected, and the keyboard. A drag is shown locally and written to the
// document once, on release (one transaction): intermediate writes would put dozens of
// updates into the shared history per gesture, and a move onto another track changes
// the clip's id, so peers would see clips flicker in and out.
import { memo, useLayoutEffect, useRef, useState } from "react";
import type React from "react";
import type { ApiClient } from "../api/client";
import { clipLengthS, MAX_LOOP_COUNT, type Clip, type ClipEdit } from "../doc/model";
import { usePeaks } from "../audio/peaks";
import { clampMove, formatBarBeat, formatDuration, snapTime, trimEnd, trimStart, type ClipSpan, type TimeGrid } from "../timeline/math";
import { FadeHandle, FadeRamps } from "./ClipFades";
import { Waveform } from "./ClipWaveform";

export interface ClipActions {
  /** Select a clip (null: none). */
  select(clip: Clip | null): void;
  /** True once when this clip should take the keyboard focus (after a move or delete). */
  takeFocus(clipId: string): boolean;
  /** Commit a move: new start, and how many tracks down (negative: up). */
  move(clip: Clip, startS: number, trackDelta: number): void;
  trim(clip: Clip, span: ClipSpan): void;
  /** Set fades, curves, loop count or gain (one transaction). */
  edit(clip: Clip, fields: ClipEdit): void;
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
  /** The loop count an end-edge drag of a looped clip asks for. */
  loops: number;
}

const DRAG_THRESHOLD_PX = 3;

/** "Clip Drums at 2.1.000, 8 s, 2 loops, fade in 0.5 s, fade out 1 s" (loops and fades only when there are). */
export function clipLabel(trackName: string, clip: Pick<Clip, "startS" | "durationS" | "loopCount" | "fadeInS" | "fadeOutS">, grid: TimeGrid): string {
  let label = `Clip ${trackName} at ${formatBarBeat(clip.startS, grid)}, ${formatDuration(clipLengthS(clip))}`;
  if (clip.loopCount > 1) label += `, ${clip.loopCount} loops`;
  if (clip.fadeInS > 0) label += `, fade in ${formatDuration(clip.fadeInS)}`;
  if (clip.fadeOutS > 0) label += `, fade out ${formatDuration(clip.fadeOutS)}`;
  return label;
}

function TimelineClipView({ clip, trackName, pxPerS, grid, stepS, snap, selected, canEdit, api, actions, helpId }: TimelineClipProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const dragRef = useRef<Drag | null>(null);
  const peaks = usePeaks(api, clip.assetId);
  const [fadeDraft, setFadeDraft] = useState<{ in?: number; out?: number }>({});

  const span: ClipSpan = drag?.span ?? clip;
  const loops = drag?.loops ?? clip.loopCount;
  const lengthS = span.durationS * loops;
  const left = span.startS * pxPerS;
  const width = Math.max(2, lengthS * pxPerS);
  const fades = {
    fadeInS: Math.min(lengthS, fadeDraft.in ?? clip.fadeInS),
    fadeOutS: Math.min(lengthS, fadeDraft.out ?? clip.fadeOutS),
    fadeInCurve: clip.fadeInCurve,
    fadeOutCurve: clip.fadeOutCurve,
  };

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
      loops: clip.loopCount,
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
    let loops = clip.loopCount;
    if (current.mode === "end" && clip.loopCount > 1) {
      // A looped clip's end edge adds or removes whole repeats.
      const end = snapTime(clip.startS + clipLengthS(clip) + deltaS, stepS, snapOn);
      loops = Math.min(MAX_LOOP_COUNT, Math.max(1, Math.round((end - clip.startS) / clip.durationS)));
      next = clip;
    } else if (current.mode === "move") {
      next = { ...clip, startS: clampMove(snapTime(clip.startS + deltaS, stepS, snapOn)) };
      trackDelta = Math.round(dy / current.laneH);
    } else if (current.mode === "start") {
      next = trimStart(clip, snapTime(clip.startS + deltaS, stepS, snapOn));
    } else {
      next = trimEnd(clip, snapTime(clip.startS + clip.durationS + deltaS, stepS, snapOn), current.assetS);
    }
    update({ ...current, moved: true, span: { startS: next.startS, offsetS: next.offsetS, durationS: next.durationS }, trackDelta, loops });
  };

  const finish = (event: React.PointerEvent<HTMLDivElement>, commit: boolean) => {
    const current = dragRef.current;
    if (!current || current.pointerId !== event.pointerId) return;
    update(null);
    if (!commit || !current.moved) return;
    if (current.mode === "move") {
      if (current.span.startS !== clip.startS || current.trackDelta !== 0) actions.move(clip, current.span.startS, current.trackDelta);
    } else if (current.loops !== clip.loopCount) {
      actions.edit(clip, { loopCount: current.loops });
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
  const label = clipLabel(trackName, { ...span, loopCount: loops, fadeInS: fades.fadeInS, fadeOutS: fades.fadeOutS }, grid);
  const showHandles = selected && canEdit && !drag;

  return (
    <>
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
          <Waveform peaks={peaks.peaks} offsetS={span.offsetS} durationS={span.durationS} regionPx={span.durationS * pxPerS} loops={loops} />
        ) : (
          <span className="clip-status">{status}</span>
        )}
        {loops > 1 && (
          <span className="clip-loops" aria-hidden="true">
            ×{loops}
          </span>
        )}
        <FadeRamps fades={fades} pxPerS={pxPerS} widthPx={width} />
        {canEdit && (
          <>
            <span className="clip-edge clip-edge-start" data-edge="start" aria-hidden="true" />
            <span className="clip-edge clip-edge-end" data-edge="end" aria-hidden="true" title={loops > 1 ? "Drag to add or remove repeats" : undefined} />
          </>
        )}
      </div>
      {showHandles && (
        <>
          <FadeHandle
            which="in"
            leftPx={left}
            widthPx={width}
            pxPerS={pxPerS}
            valueS={fades.fadeInS}
            maxS={Math.max(0, lengthS - clip.fadeOutS)}
            clipName={`${trackName} clip`}
            onDraft={(value) => setFadeDraft((d) => ({ ...d, in: value ?? undefined }))}
            onCommit={(fadeInS) => actions.edit(clip, { fadeInS })}
          />
          <FadeHandle
            which="out"
            leftPx={left}
            widthPx={width}
            pxPerS={pxPerS}
            valueS={fades.fadeOutS}
            maxS={Math.max(0, lengthS - clip.fadeInS)}
            clipName={`${trackName} clip`}
            onDraft={(value) => setFadeDraft((d) => ({ ...d, out: value ?? undefined }))}
            onCommit={(fadeOutS) => actions.edit(clip, { fadeOutS })}
          />
        </>
      )}
    </>
  );
}

export const sameClip = (a: Clip, b: Clip) =>
  a.id === b.id &&
  a.trackId === b.trackId &&
  a.assetId === b.assetId &&
  a.startS === b.startS &&
  a.offsetS === b.offsetS &&
  a.durationS === b.durationS &&
  a.gainDb === b.gainDb &&
  a.fadeInS === b.fadeInS &&
  a.fadeOutS === b.fadeOutS &&
  a.fadeInCurve === b.fadeInCurve &&
  a.fadeOutCurve === b.fadeOutCurve &&
  a.loopCount === b.loopCount;

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

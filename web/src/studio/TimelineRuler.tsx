// The ruler over the lanes: bar numbers, beat ticks, the loop range and comment flags.
// It is the playhead's slider: click (or arrow keys, Home/End) to seek.
import { memo } from "react";
import type React from "react";
import type { Comment } from "../doc/model";
import type { LoopRange } from "../audio/player";
import { formatBarBeat, formatClock, gridLines, secondsPerBar, secondsPerBeat, snapTime, type TimeGrid } from "../timeline/math";

export interface TimelineRulerProps {
  grid: TimeGrid;
  pxPerS: number;
  widthPx: number;
  fromS: number;
  toS: number;
  durationS: number;
  /** Playhead when last stopped or sought (for the slider's value; it is not updated per frame). */
  positionS: number;
  stepS: number;
  snap: boolean;
  loop: boolean;
  loopRange: LoopRange;
  comments: Comment[];
  seek(timeS: number): void;
}

const LABEL_MIN_PX = 30;

export const commentLabel = (c: Comment): string => `Comment by ${c.author} at ${formatClock(c.timeS ?? 0, false)}: ${c.text}`;

function TimelineRulerView(props: TimelineRulerProps) {
  const { grid, pxPerS, fromS, toS, positionS } = props;
  const barPx = secondsPerBar(grid) * pxPerS;
  let labelEvery = 1;
  while (barPx * labelEvery < LABEL_MIN_PX && labelEvery < 1 << 16) labelEvery *= 2;
  const lines = gridLines(grid, fromS, toS, pxPerS, 6);

  const seekFromPointer = (event: React.PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0 || (event.target as HTMLElement).closest("button")) return;
    const box = event.currentTarget.getBoundingClientRect();
    const t = (event.clientX - box.left) / pxPerS;
    props.seek(snapTime(t, props.stepS, props.snap && !event.altKey));
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    const beat = secondsPerBeat(grid);
    const bar = secondsPerBar(grid);
    let next: number | null = null;
    if (event.key === "ArrowRight" || event.key === "ArrowUp") next = snapTime(positionS, beat) + (event.shiftKey ? bar : beat);
    else if (event.key === "ArrowLeft" || event.key === "ArrowDown") next = snapTime(positionS, beat) - (event.shiftKey ? bar : beat);
    else if (event.key === "PageUp") next = positionS + bar;
    else if (event.key === "PageDown") next = positionS - bar;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = props.durationS;
    if (next === null) return;
    event.preventDefault();
    event.stopPropagation();
    props.seek(Math.max(0, next));
  };

  return (
    <div
      className="arr-ruler"
      style={{ width: props.widthPx }}
      role="slider"
      tabIndex={0}
      aria-label="Playhead position"
      aria-valuemin={0}
      aria-valuemax={Math.max(props.durationS, positionS)}
      aria-valuenow={Math.round(positionS * 1000) / 1000}
      aria-valuetext={`Bar ${formatBarBeat(positionS, grid, false)}, ${formatClock(positionS, false)}`}
      onPointerDown={seekFromPointer}
      onKeyDown={onKeyDown}
    >
      <span
        className={`ruler-loop${props.loop ? " is-on" : ""}`}
        aria-hidden="true"
        style={{ transform: `translateX(${props.loopRange.startS * pxPerS}px)`, width: (props.loopRange.endS - props.loopRange.startS) * pxPerS }}
      />
      {lines.map((line) => {
        const x = line.timeS * pxPerS;
        const labelled = line.kind === "bar" && (line.bar - 1) % labelEvery === 0;
        return (
          <span key={line.timeS} className={`ruler-tick is-${line.kind}`} style={{ transform: `translateX(${x}px)` }} aria-hidden="true">
            {labelled && <span className="ruler-bar">{line.bar}</span>}
          </span>
        );
      })}
      {props.comments.map((comment) => {
        const label = commentLabel(comment);
        return (
          <button
            key={comment.id}
            type="button"
            className="ruler-comment"
            style={{ transform: `translateX(${(comment.timeS ?? 0) * pxPerS}px)` }}
            aria-label={label}
            title={label}
            onClick={() => props.seek(comment.timeS ?? 0)}
          />
        );
      })}
    </div>
  );
}

export const TimelineRuler = memo(TimelineRulerView);

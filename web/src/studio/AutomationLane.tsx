// A track's automation row: in the header column, the lane's controls (which lane, add a
// point at the playhead, the selected point's time, value and curve, delete, clear); in
// the lanes, the lane's line over the song and its points. Click the lane to add a point
// there, drag a point to move it (Alt: off the grid); a focused point moves with the
// arrow keys (Left/Right in time by a grid step, Up/Down in value; Shift: finer) and
// goes with Delete. While a lane has points it sets the track's volume or pan.
import { useLayoutEffect, useRef, useState } from "react";
import type React from "react";
import { addLanePoint, removeLanePoint, setLanePoints, updateLanePoint } from "../doc/automation";
import { LANE_CURVES, type LaneCurve, type LaneName, type LanePoint, type Track } from "../doc/model";
import { laneValue } from "../audio/arrangement";
import { automationViewFor, useAutomationView, type PointRef } from "../timeline/automationView";
import { formatLaneValue, LANE_RANGE, LANE_TITLES, laneLine, roundToLane, valueToY, yToValue } from "../timeline/automationMath";
import { formatClock, snapTime, stepTime } from "../timeline/math";
import { useStudio } from "./context";
import { NumberField } from "./NumberField";
import "./arrangementEdit.css";

const CURVE_NAMES: Record<LaneCurve, string> = { linear: "Linear", hold: "Hold", smooth: "Smooth" };
const DRAG_THRESHOLD_PX = 3;
/** The line keeps this far from the lane's top and bottom (arrangementEdit.css .auto-graph). */
const INSET_PX = 6;

/** Times typed, dragged off the grid or nudged finely are kept to the millisecond. */
const toMs = (timeS: number): number => Math.round(Math.max(0, timeS) * 1000) / 1000;
const laneOf = (track: Track, lane: LaneName): LanePoint[] => (lane === "volume" ? track.volumeLane : track.panLane);
const fixedOf = (track: Track, lane: LaneName): number => (lane === "volume" ? track.volumeDb : track.pan);

export const pointLabel = (lane: LaneName, point: LanePoint, position: number, count: number): string =>
  `${LANE_TITLES[lane]} point ${position} of ${count}: ${formatClock(point.timeS)}, ${formatLaneValue(lane, point.value)}, ${CURVE_NAMES[point.curve].toLowerCase()}`;

// ---------------------------------------------------------------- header

export function AutomationHeader({ track, lane }: { track: Track; lane: LaneName }) {
  const { doc, player, canEdit } = useStudio();
  const store = automationViewFor(doc);
  const view = useAutomationView(doc);
  const points = laneOf(track, lane);
  const selectedRef = view.selected?.trackId === track.id && view.selected.lane === lane ? view.selected : null;
  const selected = selectedRef ? (points.find((p) => p.index === selectedRef.index) ?? null) : null;
  const range = LANE_RANGE[lane];
  const select = (index: number, focus = false) => store.select(index >= 0 ? { trackId: track.id, lane, index } : null, focus);

  const addAtPlayhead = () => {
    const timeS = toMs(player.position());
    const value = points.length ? laneValue(points, timeS) : fixedOf(track, lane);
    select(addLanePoint(doc, track.id, lane, { timeS, value: roundToLane(lane, value) }), true);
  };
  const remove = () => {
    if (!selected) return;
    const at = points.indexOf(selected);
    const neighbour = points[at + 1] ?? points[at - 1] ?? null;
    removeLanePoint(doc, track.id, lane, selected.index);
    // The neighbour's stored index shifts down when it came after the removed point.
    select(neighbour ? (neighbour.index > selected.index ? neighbour.index - 1 : neighbour.index) : -1);
  };
  const edit = (fields: { timeS?: number; value?: number; curve?: LaneCurve }) => {
    if (selected) select(updateLanePoint(doc, track.id, lane, selected.index, fields));
  };

  return (
    <div className="auto-head" role="group" aria-label={`Automation of ${track.name}`}>
      <div className="auto-line">
        <select aria-label={`Automation lane of ${track.name}`} value={lane} onChange={(e) => store.showLane(track.id, e.currentTarget.value as LaneName)}>
          <option value="volume">Volume{track.volumeLane.length ? ` (${track.volumeLane.length})` : ""}</option>
          <option value="pan">Pan{track.panLane.length ? ` (${track.panLane.length})` : ""}</option>
        </select>
        <button type="button" disabled={!canEdit} onClick={addAtPlayhead} title="Add a point at the playhead, at the lane's value there">
          Add<span className="sr-only"> point</span>
        </button>
        <button
          type="button"
          className="danger"
          disabled={!canEdit || points.length === 0}
          title={`Remove every point: the track's fixed ${lane} rules again`}
          onClick={() => {
            setLanePoints(doc, track.id, lane, []);
            select(-1);
          }}
        >
          Clear<span className="sr-only"> lane</span>
        </button>
      </div>
      {selected ? (
        <>
          <div className="auto-line" key={`${selected.index}`}>
            <NumberField
              label={
                <>
                  Time<span className="sr-only"> (s)</span>
                </>
              }
              value={selected.timeS}
              min={0}
              max={24 * 3600}
              step={0.01}
              decimals={3}
              disabled={!canEdit}
              onCommit={(timeS) => edit({ timeS })}
            />
            <NumberField
              label={
                lane === "volume" ? (
                  <>
                    <span className="sr-only">Value (</span>dB<span className="sr-only">)</span>
                  </>
                ) : (
                  "Pan"
                )
              }
              value={selected.value}
              min={lane === "volume" ? -120 : -1}
              max={lane === "volume" ? 24 : 1}
              step={range.step}
              decimals={2}
              disabled={!canEdit}
              onCommit={(value) => edit({ value })}
            />
          </div>
          <div className="auto-line">
            <select aria-label="Curve to the next point" value={selected.curve} disabled={!canEdit} onChange={(e) => edit({ curve: e.currentTarget.value as LaneCurve })}>
              {LANE_CURVES.map((curve) => (
                <option key={curve} value={curve}>
                  {CURVE_NAMES[curve]}
                </option>
              ))}
            </select>
            <button type="button" className="danger" disabled={!canEdit} onClick={remove}>
              Delete<span className="sr-only"> point</span>
            </button>
          </div>
        </>
      ) : (
        <p className="auto-hint muted">{points.length ? "Select a point to edit it." : `No points: the fixed ${lane} plays. Click the lane to add one.`}</p>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- lane

export interface AutomationLaneProps {
  track: Track;
  lane: LaneName;
  pxPerS: number;
  fromS: number;
  toS: number;
  stepS: number;
  snap: boolean;
  helpId: string;
}

interface PointDrag {
  pointerId: number;
  index: number;
  x0: number;
  y0: number;
  /** The point as stored when the drag began. */
  from: LanePoint;
  moved: boolean;
  timeS: number;
  value: number;
}

export function AutomationLane({ track, lane, pxPerS, fromS, toS, stepS, snap, helpId }: AutomationLaneProps) {
  const { doc, canEdit } = useStudio();
  const store = automationViewFor(doc);
  const view = useAutomationView(doc);
  const box = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<PointDrag | null>(null);
  const dragRef = useRef<PointDrag | null>(null);
  const stored = laneOf(track, lane);
  // A dragged point is drawn where it is being dragged to.
  const points = drag?.moved
    ? stored.map((p) => (p.index === drag.index ? { ...p, timeS: drag.timeS, value: drag.value } : p)).sort((a, b) => a.timeS - b.timeS)
    : stored;
  const selectedIndex = view.selected?.trackId === track.id && view.selected.lane === lane ? view.selected.index : null;
  const ref = (index: number): PointRef => ({ trackId: track.id, lane, index });

  useLayoutEffect(() => {
    if (selectedIndex === null || !store.takeFocus(ref(selectedIndex))) return;
    box.current?.querySelector<HTMLElement>(`[data-point-index="${selectedIndex}"]`)?.focus();
  });

  const heightOf = () => Math.max(1, (box.current?.getBoundingClientRect().height ?? 0) - 2 * INSET_PX);
  const fromPointer = (event: React.PointerEvent) => {
    const rect = box.current!.getBoundingClientRect();
    return { timeS: (event.clientX - rect.left) / pxPerS, value: yToValue(lane, (event.clientY - rect.top - INSET_PX) / heightOf()) };
  };

  const onLanePointerDown = (event: React.PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0 || (event.target as HTMLElement).closest("[data-point-index]")) return;
    if (!canEdit) return;
    const at = fromPointer(event);
    const index = addLanePoint(doc, track.id, lane, { timeS: toMs(snapTime(at.timeS, stepS, snap && !event.altKey)), value: at.value });
    store.select(ref(index), true);
  };

  const onPointDown = (event: React.PointerEvent<HTMLButtonElement>, point: LanePoint) => {
    if (event.button !== 0) return;
    event.stopPropagation();
    store.select(ref(point.index));
    if (!canEdit) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const next = { pointerId: event.pointerId, index: point.index, x0: event.clientX, y0: event.clientY, from: point, moved: false, timeS: point.timeS, value: point.value };
    dragRef.current = next;
    setDrag(next);
  };
  const onPointMove = (event: React.PointerEvent<HTMLButtonElement>) => {
    const current = dragRef.current;
    if (!current || current.pointerId !== event.pointerId) return;
    const dx = event.clientX - current.x0;
    const dy = event.clientY - current.y0;
    if (!current.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
    const timeS = toMs(snapTime(current.from.timeS + dx / pxPerS, stepS, snap && !event.altKey));
    const value = yToValue(lane, valueToY(lane, current.from.value) + dy / heightOf());
    const next = { ...current, moved: true, timeS, value };
    dragRef.current = next;
    setDrag(next);
  };
  const onPointUp = (event: React.PointerEvent<HTMLButtonElement>) => {
    const current = dragRef.current;
    if (!current || current.pointerId !== event.pointerId) return;
    dragRef.current = null;
    setDrag(null);
    if (current.moved) store.select(ref(updateLanePoint(doc, track.id, lane, current.index, { timeS: current.timeS, value: current.value })));
  };

  const onPointKey = (event: React.KeyboardEvent<HTMLButtonElement>, point: LanePoint, position: number) => {
    if (event.key === "Escape") {
      store.select(null);
      return;
    }
    if (!canEdit || event.ctrlKey || event.metaKey || event.altKey) return;
    const range = LANE_RANGE[lane];
    let fields: { timeS?: number; value?: number } | null = null;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const direction = event.key === "ArrowRight" ? 1 : -1;
      fields = { timeS: event.shiftKey ? toMs(point.timeS + direction * 0.01) : stepTime(point.timeS, stepS, direction) };
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const step = (event.shiftKey ? range.fine : range.step) * (event.key === "ArrowUp" ? 1 : -1);
      fields = { value: roundToLane(lane, point.value + step) };
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      event.stopPropagation();
      const neighbour = points[position + 1] ?? points[position - 1] ?? null;
      removeLanePoint(doc, track.id, lane, point.index);
      store.select(neighbour ? ref(neighbour.index > point.index ? neighbour.index - 1 : neighbour.index) : null, true);
      return;
    }
    if (!fields) return;
    event.preventDefault();
    event.stopPropagation();
    store.select(ref(updateLanePoint(doc, track.id, lane, point.index, fields)), true);
  };

  const line = laneLine(points, fixedOf(track, lane), fromS, toS);
  const widthS = Math.max(0.001, toS - fromS);
  const path = line.map(([t, v], i) => `${i ? "L" : "M"}${((t - fromS) * pxPerS).toFixed(1)},${(valueToY(lane, v) * 100).toFixed(2)}`).join("");
  const visible = points.map((p, position) => ({ p, position })).filter(({ p }) => p.timeS >= fromS && p.timeS <= toS);

  return (
    <div
      ref={box}
      className={`arr-lane arr-auto-lane${canEdit ? " is-editable" : ""}`}
      role="group"
      aria-label={`${LANE_TITLES[lane]} automation of ${track.name}`}
      aria-describedby={helpId}
      onPointerDown={onLanePointerDown}
      // A click on the lane gives the new point the focus; the lane itself must not take it back.
      onMouseDown={(event) => {
        if (!(event.target as HTMLElement).closest("[data-point-index]")) event.preventDefault();
      }}
    >
      <svg
        className={`auto-graph${points.length ? "" : " is-fixed"}`}
        aria-hidden="true"
        style={{ transform: `translateX(${fromS * pxPerS}px)`, width: widthS * pxPerS }}
        viewBox={`0 0 ${Math.max(1, widthS * pxPerS)} 100`}
        preserveAspectRatio="none"
      >
        <path d={path} vectorEffect="non-scaling-stroke" />
      </svg>
      {visible.map(({ p, position }) => (
        <button
          key={p.index}
          type="button"
          className="auto-point"
          data-point-index={p.index}
          aria-pressed={p.index === selectedIndex}
          aria-label={pointLabel(lane, p, position + 1, points.length)}
          title={pointLabel(lane, p, position + 1, points.length)}
          style={{
            top: `${valueToY(lane, p.value) * 100}%`,
            marginTop: INSET_PX - 2 * INSET_PX * valueToY(lane, p.value),
            transform: `translate(${p.timeS * pxPerS}px, -50%)`,
          }}
          onPointerDown={(e) => onPointDown(e, p)}
          onPointerMove={onPointMove}
          onPointerUp={onPointUp}
          onPointerCancel={() => {
            dragRef.current = null;
            setDrag(null);
          }}
          onFocus={() => store.select(ref(p.index))}
          onKeyDown={(e) => onPointKey(e, p, position)}
        />
      ))}
    </div>
  );
}

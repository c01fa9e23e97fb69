// Automation lanes written from the browser: a track's volume or pan breakpoints, stored
// as docs_model/automation.py stores them (a Y.Array of Y.Maps with time_s, value and
// curve under the track, in time order). Single points are edited in place (insert,
// update, delete one), so two people editing different points of a lane both keep theirs.
import * as Y from "yjs";
import { LANE_CURVES, readLane, trackMap, type LaneCurve, type LaneName } from "./model";

/** Most points a lane may hold (docs_model MAX_POINTS). */
export const MAX_LANE_POINTS = 10_000;
/** Loudest a volume lane may ask for (dB). */
export const MAX_LANE_DB = 24;

export const laneField = (lane: LaneName): string => `${lane}_automation`;

export interface PointFields {
  timeS: number;
  value: number;
  curve?: LaneCurve;
}

/** `value` made acceptable for `lane`: pan -1..1, volume at most +24 dB. */
export function laneValueFor(lane: LaneName, value: number): number {
  const finite = Number.isFinite(value) ? value : 0;
  return lane === "pan" ? Math.min(1, Math.max(-1, finite)) : Math.min(MAX_LANE_DB, finite);
}

function checked(lane: LaneName, point: PointFields): Required<PointFields> {
  return {
    timeS: Number.isFinite(point.timeS) ? Math.max(0, point.timeS) : 0,
    value: laneValueFor(lane, point.value),
    curve: point.curve && LANE_CURVES.includes(point.curve) ? point.curve : "linear",
  };
}

function pointMap(point: Required<PointFields>): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  map.set("time_s", point.timeS);
  map.set("value", point.value);
  map.set("curve", point.curve);
  return map;
}

/** The lane's stored Array; a missing (or unreadable) one is created when `create`. */
function laneArray(doc: Y.Doc, trackId: string, lane: LaneName, create: boolean): Y.Array<unknown> | null {
  const track = trackMap(doc, trackId);
  const raw = track.get(laneField(lane));
  if (raw instanceof Y.Array) return raw;
  if (!create) return null;
  const made = new Y.Array<unknown>();
  track.set(laneField(lane), made);
  return made;
}

/** Where a point at `timeS` goes in the stored Array: after every readable point not later than it. */
function insertionIndex(array: Y.Array<unknown>, timeS: number, skip = -1): number {
  let at = 0;
  for (const point of readLane(array)) {
    if (point.index !== skip && point.timeS <= timeS) at = Math.max(at, point.index + 1);
  }
  return skip >= 0 && at > skip ? at - 1 : at;
}

/** Make the lane exactly `points`, sorted by time (none: the lane is cleared and the fixed value rules again). */
export function setLanePoints(doc: Y.Doc, trackId: string, lane: LaneName, points: PointFields[]): void {
  if (points.length > MAX_LANE_POINTS) throw new Error(`an automation lane holds at most ${MAX_LANE_POINTS} points`);
  const sorted = points.map((p) => checked(lane, p)).sort((a, b) => a.timeS - b.timeS);
  doc.transact(() => {
    const array = laneArray(doc, trackId, lane, sorted.length > 0);
    if (!array) return;
    if (array.length) array.delete(0, array.length);
    array.insert(0, sorted.map(pointMap));
  });
}

/** Add a point in time order; returns its index in the stored lane. */
export function addLanePoint(doc: Y.Doc, trackId: string, lane: LaneName, point: PointFields): number {
  const fields = checked(lane, point);
  let at = 0;
  doc.transact(() => {
    const array = laneArray(doc, trackId, lane, true) as Y.Array<unknown>;
    if (array.length >= MAX_LANE_POINTS) throw new Error(`an automation lane holds at most ${MAX_LANE_POINTS} points`);
    at = insertionIndex(array, fields.timeS);
    array.insert(at, [pointMap(fields)]);
  });
  return at;
}

/**
 * Change the point stored at `index` (its time, value or curve); returns its index after
 * the change (a new time may move it among its neighbours), or -1 when it is gone.
 */
export function updateLanePoint(doc: Y.Doc, trackId: string, lane: LaneName, index: number, fields: Partial<PointFields>): number {
  let result = -1;
  doc.transact(() => {
    const array = laneArray(doc, trackId, lane, false);
    const current = array ? readLane(array).find((p) => p.index === index) : undefined;
    if (!array || !current) return;
    const next = checked(lane, { timeS: fields.timeS ?? current.timeS, value: fields.value ?? current.value, curve: fields.curve ?? current.curve });
    const at = insertionIndex(array, next.timeS, index);
    const stored = array.get(index);
    if (at === index && stored instanceof Y.Map) {
      // Still between its neighbours: edit the point in place.
      if (next.timeS !== current.timeS) stored.set("time_s", next.timeS);
      if (next.value !== current.value) stored.set("value", next.value);
      if (next.curve !== current.curve || stored.get("curve") !== next.curve) stored.set("curve", next.curve);
      result = index;
      return;
    }
    array.delete(index, 1);
    array.insert(at, [pointMap(next)]);
    result = at;
  });
  return result;
}

export function removeLanePoint(doc: Y.Doc, trackId: string, lane: LaneName, index: number): void {
  doc.transact(() => {
    const array = laneArray(doc, trackId, lane, false);
    if (array && index >= 0 && index < array.length) array.delete(index, 1);
  });
}

// One track's lane: the clips in view and the coaching notes (its header sits in the
// arrangement's fixed column). Memoised on the track's fields, so an edit on one track
// re-renders that lane only.
import { memo } from "react";
import type { ApiClient } from "../api/client";
import { clipLengthS, type CoachingNote, type LanePoint, type Track } from "../doc/model";
import { formatClock, intersects, type TimeGrid } from "../timeline/math";
import { MidiClipBlocks } from "./MidiClipBlocks";
import { sameClip, TimelineClip, type ClipActions } from "./TimelineClip";
import { TrackHeader } from "./TrackHeader";

export interface TimelineRowProps {
  track: Track;
  pxPerS: number;
  grid: TimeGrid;
  stepS: number;
  snap: boolean;
  selectedClipId: string | null;
  canEdit: boolean;
  api: ApiClient;
  actions: ClipActions;
  /** Song range drawn (the view plus a margin), in seconds. */
  fromS: number;
  toS: number;
  notes: CoachingNote[] | undefined;
  helpId: string;
}

const NOTE_MIN_S = 0.25;

/** Coaching notes by kind: a colour and a letter (colour is never the only signal). */
export function noteStyle(kind: string): { color: string; letter: string } {
  const k = kind.toLowerCase();
  if (k.includes("pitch") || k.includes("flat") || k.includes("sharp")) return { color: "#e57373", letter: "P" };
  if (k.includes("tim") || k.includes("rhythm") || k.includes("late") || k.includes("early")) return { color: "#4fc3f7", letter: "T" };
  if (k.includes("dynamic") || k.includes("loud") || k.includes("quiet") || k.includes("clip")) return { color: "#ffb74d", letter: "D" };
  if (k.includes("breath") || k.includes("vibrato") || k.includes("tone")) return { color: "#ba68c8", letter: "V" };
  if (k.includes("good") || k.includes("praise") || k.includes("strength")) return { color: "#81c784", letter: "✓" };
  return { color: "#a9b1c0", letter: kind.slice(0, 1).toUpperCase() || "•" };
}

export const noteLabel = (note: CoachingNote): string =>
  `Coaching (${note.kind}) at ${formatClock(note.startS, false)}${note.endS !== null ? `–${formatClock(note.endS, false)}` : ""}: ${note.message}`;

/** The header re-renders only when its track or place changes (not when the view scrolls). */
export const TimelineHeader = memo(TrackHeader, (a, b) => sameTrack(a.track, b.track) && a.index === b.index && a.count === b.count);

function TimelineRowView(props: TimelineRowProps) {
  const { track, pxPerS, fromS, toS, selectedClipId, notes } = props;
  return (
    <div
        className="arr-lane"
        data-track-id={track.id}
        role="group"
        aria-label={`${track.name} lane`}
        onPointerDown={(e) => {
          if (e.target === e.currentTarget) props.actions.select(null);
        }}
      >
        {track.clips
          .filter((clip) => clip.id === selectedClipId || intersects(clip.startS, clipLengthS(clip), fromS, toS))
          .map((clip) => (
            <TimelineClip
              key={clip.id}
              clip={clip}
              trackName={track.name}
              pxPerS={pxPerS}
              grid={props.grid}
              stepS={props.stepS}
              snap={props.snap}
              selected={clip.id === selectedClipId}
              canEdit={props.canEdit}
              api={props.api}
              actions={props.actions}
              helpId={props.helpId}
            />
          ))}
        {track.kind === "midi" && (
          <MidiClipBlocks trackId={track.id} trackName={track.name} pxPerS={pxPerS} fromS={fromS} toS={toS} />
        )}
        {notes
          ?.filter((note) => intersects(note.startS, Math.max(NOTE_MIN_S, (note.endS ?? note.startS) - note.startS), fromS, toS))
          .map((note, i) => {
            const { color, letter } = noteStyle(note.kind);
            const width = Math.max(12, Math.max(NOTE_MIN_S, (note.endS ?? note.startS) - note.startS) * pxPerS);
            const label = noteLabel(note);
            return (
              <span
                key={`${note.startS}-${i}`}
                className="coach-note"
                role="img"
                aria-label={label}
                title={label}
                style={{ transform: `translateX(${note.startS * pxPerS}px)`, width, background: color }}
              >
                {letter}
              </span>
            );
          })}
    </div>
  );
}

function sameTrack(a: Track, b: Track): boolean {
  if (a === b) return true;
  if (
    a.id !== b.id ||
    a.name !== b.name ||
    a.kind !== b.kind ||
    a.order !== b.order ||
    a.volumeDb !== b.volumeDb ||
    a.pan !== b.pan ||
    a.mute !== b.mute ||
    a.solo !== b.solo ||
    a.assetId !== b.assetId ||
    a.clips.length !== b.clips.length ||
    a.effects.length !== b.effects.length ||
    !sameLane(a.volumeLane, b.volumeLane) ||
    !sameLane(a.panLane, b.panLane)
  ) {
    return false;
  }
  for (let i = 0; i < a.clips.length; i++) {
    if (!sameClip(a.clips[i], b.clips[i])) return false;
  }
  for (let i = 0; i < a.effects.length; i++) {
    if (JSON.stringify(a.effects[i]) !== JSON.stringify(b.effects[i])) return false;
  }
  return true;
}

function sameLane(a: LanePoint[], b: LanePoint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => p.timeS === b[i].timeS && p.value === b[i].value && p.curve === b[i].curve && p.index === b[i].index);
}

export const TimelineRow = memo(
  TimelineRowView,
  (a, b) =>
    sameTrack(a.track, b.track) &&
    a.pxPerS === b.pxPerS &&
    a.grid === b.grid &&
    a.stepS === b.stepS &&
    a.snap === b.snap &&
    a.selectedClipId === b.selectedClipId &&
    a.canEdit === b.canEdit &&
    a.api === b.api &&
    a.actions === b.actions &&
    a.fromS === b.fromS &&
    a.toS === b.toS &&
    a.notes === b.notes &&
    a.helpId === b.helpId,
);

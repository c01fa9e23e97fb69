// The piano roll's grid: piano keys down the side, a row per pitch, beats across, the
// clip's notes on it. Click the grid to add a note, drag a note to move it, drag its end
// to resize it; on a focused note the arrow keys move it (Shift: resize), Delete removes
// it. A drag is shown locally and written once, on release (one transaction).
import { useLayoutEffect, useRef, useState } from "react";
import type React from "react";
import type { MidiClip, MidiNote } from "../doc/midi";
import {
  PITCH_ROWS,
  ROW_PX,
  cellStart,
  isBlackKey,
  movedNote,
  noteLabel,
  pitchName,
  pitchToY,
  resizedNote,
  yToPitch,
  type NotePlace,
} from "../timeline/pianoRollMath";

export interface NoteActions {
  add(pitch: number, startBeats: number): void;
  place(note: MidiNote, place: NotePlace): void;
  remove(note: MidiNote): void;
  select(noteId: string | null): void;
  preview(pitch: number, velocity: number): void;
}

export interface PianoRollGridProps {
  clip: MidiClip;
  /** Beats the grid shows, and where the clip stops sounding. */
  widthBeats: number;
  clipBeats: number;
  beatsPerBar: number;
  snap: number;
  beatPx: number;
  canEdit: boolean;
  selectedId: string | null;
  /** The note that should take the keyboard focus once drawn (read and cleared here). */
  focusWanted: React.MutableRefObject<string | null>;
  helpId: string;
  actions: NoteActions;
}

export const KEYS_PX = 56;
/** The right-edge strip of a note that resizes it (px). */
const EDGE_PX = 7;
const ROWS = Array.from({ length: PITCH_ROWS }, (_, i) => PITCH_ROWS - 1 - i);

interface Drag {
  noteId: string;
  mode: "move" | "resize";
  pointerId: number;
  x0: number;
  y0: number;
  moved: boolean;
  place: NotePlace;
}

export function PianoRollGrid(props: PianoRollGridProps) {
  const { clip, beatPx, snap, canEdit, selectedId, actions } = props;
  const area = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const widthPx = props.widthBeats * beatPx;

  useLayoutEffect(() => {
    const id = props.focusWanted.current;
    if (!id) return;
    const element = area.current?.querySelector<HTMLElement>(`[data-note-id="${CSS.escape(id)}"]`);
    if (!element) return;
    props.focusWanted.current = null;
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  const pointAt = (event: React.PointerEvent) => {
    const box = area.current!.getBoundingClientRect();
    return { beats: (event.clientX - box.left) / beatPx, pitch: yToPitch(event.clientY - box.top) };
  };

  const onGridDown = (event: React.PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0 || (event.target as HTMLElement).closest(".pr-note")) return;
    if (!canEdit) {
      actions.select(null);
      return;
    }
    // The new note takes the focus; the press must not give it to the dialog behind.
    event.preventDefault();
    const { beats, pitch } = pointAt(event);
    actions.add(pitch, cellStart(beats, event.altKey ? 0 : snap));
  };

  const onNoteDown = (event: React.PointerEvent<HTMLDivElement>, note: MidiNote) => {
    if (event.button !== 0) return;
    actions.select(note.id);
    if (!canEdit) return;
    const box = event.currentTarget.getBoundingClientRect();
    const mode = event.clientX > box.right - EDGE_PX ? "resize" : "move";
    event.currentTarget.setPointerCapture(event.pointerId);
    setDrag({ noteId: note.id, mode, pointerId: event.pointerId, x0: event.clientX, y0: event.clientY, moved: false, place: note });
  };

  const onNoteMove = (event: React.PointerEvent, note: MidiNote) => {
    if (!drag || drag.pointerId !== event.pointerId) return;
    const dBeats = (event.clientX - drag.x0) / beatPx;
    const dRows = Math.round((event.clientY - drag.y0) / ROW_PX);
    const step = event.altKey ? 0 : snap;
    const place = drag.mode === "move" ? movedNote(note, dBeats, -dRows, step) : resizedNote(note, dBeats, step);
    const moved = drag.moved || Math.abs(event.clientX - drag.x0) > 2 || Math.abs(event.clientY - drag.y0) > 2;
    if (place.pitch !== drag.place.pitch) actions.preview(place.pitch, note.velocity);
    setDrag({ ...drag, moved, place });
  };

  const onNoteUp = (event: React.PointerEvent, note: MidiNote) => {
    if (!drag || drag.pointerId !== event.pointerId) return;
    setDrag(null);
    const { place } = drag;
    if (drag.moved && (place.pitch !== note.pitch || place.startBeats !== note.startBeats || place.lengthBeats !== note.lengthBeats)) actions.place(note, place);
  };

  const onNoteKey = (event: React.KeyboardEvent, note: MidiNote) => {
    const key = event.key;
    let place: NotePlace | null = null;
    if (key === "Enter" || key === " ") {
      actions.preview(note.pitch, note.velocity);
    } else if (!canEdit) {
      return;
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      const direction = key === "ArrowRight" ? 1 : -1;
      place = event.shiftKey ? resizedNote(note, direction * snap, snap) : movedNote(note, direction * snap, 0, snap);
    } else if (key === "ArrowUp" || key === "ArrowDown") {
      place = movedNote(note, 0, (key === "ArrowUp" ? 1 : -1) * (event.shiftKey ? 12 : 1), 0);
    } else if (key === "Delete" || key === "Backspace") {
      actions.remove(note);
    } else {
      return;
    }
    // Handled here: not the transport's (Space) or the page's (scrolling) keys.
    event.preventDefault();
    event.stopPropagation();
    if (place) {
      actions.place(note, place);
      if (place.pitch !== note.pitch) actions.preview(place.pitch, note.velocity);
      props.focusWanted.current = note.id;
    }
  };

  const clipEndPx = props.clipBeats * beatPx;
  const barPx = beatPx * props.beatsPerBar;
  return (
    <div className="pr-content" style={{ width: KEYS_PX + widthPx, height: PITCH_ROWS * ROW_PX }}>
      <div className="pr-keys" aria-hidden="true">
        {ROWS.map((pitch) => (
          <div
            key={pitch}
            className={`pr-key${isBlackKey(pitch) ? " is-black" : ""}`}
            style={{ height: ROW_PX }}
            onPointerDown={() => actions.preview(pitch, 100)}
          >
            {pitch % 12 === 0 ? pitchName(pitch) : ""}
          </div>
        ))}
      </div>
      <div ref={area} className="pr-area" style={{ width: widthPx }} role="group" aria-label="Notes" onPointerDown={onGridDown}>
        {ROWS.map((pitch) => (
          <div key={pitch} className={`pr-row${isBlackKey(pitch) ? " is-black" : ""}${pitch % 12 === 0 ? " is-c" : ""}`} style={{ height: ROW_PX }} aria-hidden="true" />
        ))}
        <div
          className="pr-lines"
          aria-hidden="true"
          style={{
            backgroundSize: `${barPx}px 100%, ${beatPx}px 100%, ${Math.max(4, snap * beatPx)}px 100%`,
          }}
        />
        {clipEndPx < widthPx && (
          <div className="pr-past-end" style={{ left: clipEndPx }} title="Notes past the clip's end are not heard" aria-hidden="true" />
        )}
        {clip.notes.map((note) => {
          const dragged = drag?.noteId === note.id ? drag.place : null;
          const shown = dragged ?? note;
          const selected = note.id === selectedId;
          const label = noteLabel(note, props.beatsPerBar);
          return (
            <div
              key={note.id}
              data-note-id={note.id}
              className={`pr-note${selected ? " is-selected" : ""}${dragged ? " is-dragging" : ""}`}
              role="button"
              tabIndex={0}
              aria-pressed={selected}
              aria-label={label}
              aria-describedby={props.helpId}
              title={label}
              style={{
                transform: `translate(${shown.startBeats * beatPx}px, ${pitchToY(shown.pitch)}px)`,
                width: Math.max(4, shown.lengthBeats * beatPx),
                height: ROW_PX,
                ["--velocity" as string]: String(note.velocity / 127),
              }}
              onPointerDown={(event) => onNoteDown(event, note)}
              onPointerMove={(event) => onNoteMove(event, note)}
              onPointerUp={(event) => onNoteUp(event, note)}
              onPointerCancel={() => setDrag(null)}
              onFocus={() => actions.select(note.id)}
              onKeyDown={(event) => onNoteKey(event, note)}
            >
              <span className="pr-note-name" aria-hidden="true">
                {shown.lengthBeats * beatPx > 28 ? pitchName(shown.pitch) : ""}
              </span>
              {canEdit && <span className="pr-note-edge" aria-hidden="true" />}
            </div>
          );
        })}
      </div>
    </div>
  );
}

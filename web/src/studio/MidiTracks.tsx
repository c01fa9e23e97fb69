// The MIDI tracks of the song, from the toolbar: add a MIDI track, add or delete its
// clips, open a clip's piano roll (a separate chunk, loaded when first opened). While
// it is mounted, the MIDI tracks play along with the transport (audio/midiSession.ts);
// nothing of the synthesizer loads until a MIDI note is to be heard.
import { lazy, Suspense, useEffect, useId, useRef, useState } from "react";
import { useMeta } from "../doc/hooks";
import { addMidiClip, addMidiTrack, removeMidiClip, type MidiTrack } from "../doc/midi";
import { removeTrack } from "../doc/model";
import { useMidiTracks } from "../doc/midiHooks";
import { closeMidiSession, midiSessionFor } from "../audio/midiSession";
import { formatBarBeat, secondsPerBar, type TimeGrid } from "../timeline/math";
import { useStudio } from "./context";
import "./midi.css";

const PianoRoll = lazy(() => import("./PianoRoll"));

/** The panel's width in midi.css (px). */
const PANEL_PX = 440;
/** Bars a new clip lasts. */
const NEW_CLIP_BARS = 2;

interface Editing {
  trackId: string;
  clipId: string;
}

export function MidiTracks() {
  const { doc, canEdit, player } = useStudio();
  const tracks = useMidiTracks(doc);
  const meta = useMeta(doc);
  const [open, setOpen] = useState(false);
  /** The panel opens towards the side with room (the button may sit near the window's right edge). */
  const [alignRight, setAlignRight] = useState(false);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [message, setMessage] = useState("");
  const panelId = useId();
  const opener = useRef<HTMLElement | null>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const grid: TimeGrid = { bpm: meta.bpm, beatsPerBar: meta.beatsPerBar, beatUnit: meta.beatUnit };

  useEffect(() => {
    const stopFollowing = midiSessionFor(doc).follow(player);
    return () => {
      stopFollowing();
      closeMidiSession(doc);
    };
  }, [doc, player]);

  const addTrack = () => {
    const name = `MIDI ${tracks.length + 1}`;
    addMidiTrack(doc, name);
    setMessage(`${name} added.`);
  };

  const addClip = (track: MidiTrack) => {
    const last = track.clips[track.clips.length - 1];
    const startS = last ? last.startS + last.durationS : 0;
    const clipId = addMidiClip(doc, track.id, startS, NEW_CLIP_BARS * secondsPerBar(grid));
    setMessage(`Clip added to ${track.name} at ${formatBarBeat(startS, grid, false)}.`);
    return clipId;
  };

  const edit = (target: Editing, from: HTMLElement | null) => {
    opener.current = from;
    setEditing(target);
  };

  return (
    <div className="midi-tracks">
      <button
        ref={toggle}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={(event) => {
          const box = event.currentTarget.getBoundingClientRect();
          setAlignRight(box.left + PANEL_PX > window.innerWidth);
          setOpen(!open);
        }}
      >
        MIDI tracks{tracks.length > 0 ? ` (${tracks.length})` : ""}
      </button>
      <section
        id={panelId}
        className={`midi-panel card${alignRight ? " is-right" : ""}`}
        aria-label="MIDI tracks"
        hidden={!open}
        onKeyDown={(event) => {
          if (event.key !== "Escape" || editing) return;
          event.stopPropagation();
          setOpen(false);
          toggle.current?.focus();
        }}
      >
        <div className="row">
          <button type="button" disabled={!canEdit} onClick={addTrack}>
            <span aria-hidden="true">+ </span>Add MIDI track
          </button>
          <span className="grow" />
          <button type="button" aria-label="Close the MIDI tracks" onClick={() => setOpen(false)}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
        {tracks.length === 0 && (
          <p className="muted">{canEdit ? "No MIDI tracks yet: add one, add a clip to it, then write its notes in the piano roll." : "No MIDI tracks yet."}</p>
        )}
        <ul className="midi-list">
          {tracks.map((track) => (
            <li key={track.id} className="midi-track" role="group" aria-label={`MIDI track ${track.name}`}>
              <div className="row">
                <strong>{track.name}</strong>
                <span className="grow" />
                <button
                  type="button"
                  disabled={!canEdit}
                  onClick={(event) => {
                    const from = event.currentTarget;
                    edit({ trackId: track.id, clipId: addClip(track) }, from);
                  }}
                >
                  <span aria-hidden="true">+ </span>Add clip
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={!canEdit}
                  aria-label={`Delete MIDI track ${track.name}`}
                  onClick={() => {
                    removeTrack(doc, track.id);
                    setMessage(`${track.name} deleted.`);
                  }}
                >
                  Delete
                </button>
              </div>
              {track.clips.length === 0 && <p className="muted">No clips.</p>}
              <ul className="midi-clips">
                {track.clips.map((clip) => {
                  const where = `${track.name} at ${formatBarBeat(clip.startS, grid, false)}`;
                  return (
                    <li key={clip.id} className="row">
                      <span className="grow">
                        Clip at {formatBarBeat(clip.startS, grid, false)}{" "}
                        <span className="muted">
                          ({clip.notes.length} {clip.notes.length === 1 ? "note" : "notes"})
                        </span>
                      </span>
                      <button type="button" aria-label={`${canEdit ? "Edit" : "Show"} notes of clip ${where}`} onClick={(event) => edit({ trackId: track.id, clipId: clip.id }, event.currentTarget)}>
                        {canEdit ? "Edit notes" : "Show notes"}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        disabled={!canEdit}
                        aria-label={`Delete clip ${where}`}
                        onClick={() => {
                          removeMidiClip(doc, track.id, clip.id);
                          setMessage("Clip deleted.");
                        }}
                      >
                        Delete
                      </button>
                    </li>
                  );
                })}
              </ul>
            </li>
          ))}
        </ul>
        <p role="status" className="sr-only">
          {message}
        </p>
      </section>
      {editing && (
        <Suspense fallback={<p role="status" className="midi-loading">Loading the piano roll…</p>}>
          <PianoRoll
            trackId={editing.trackId}
            clipId={editing.clipId}
            onClose={() => {
              setEditing(null);
              opener.current?.focus();
            }}
          />
        </Suspense>
      )}
    </div>
  );
}

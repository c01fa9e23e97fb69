// The piano roll of one MIDI clip, as a dialog: the instrument, the snap and the zoom,
// the clip's length, the selected note's velocity, and the grid (PianoRollGrid.tsx).
// Everything is read live from the shared document, so each peer's edits show at once;
// viewers see and hear the notes but change nothing. Its sound is the synthesizer the
// server renders with (audio/midiPlayer.ts), loaded when the dialog opens.
import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useMeta } from "../doc/hooks";
import { addNote, findMidiClip, removeNote, resizeMidiClip, setInstrument, setVelocity, updateNote, type MidiNote } from "../doc/midi";
import { useMidiTracks } from "../doc/midiHooks";
import { GM_INSTRUMENTS } from "../audio/gmInstruments";
import { midiSessionFor } from "../audio/midiSession";
import { formatBarBeat, secondsPerBar } from "../timeline/math";
import { DEFAULT_BEAT_PX, DEFAULT_SNAP_BEATS, ROW_PX, SNAP_STEPS, centrePitch, clipBeats, gridBeats, pitchName, pitchToY, type NotePlace } from "../timeline/pianoRollMath";
import { useStudio } from "./context";
import { NumberField } from "./NumberField";
import { KEYS_PX, PianoRollGrid, type NoteActions } from "./PianoRollGrid";
import "./pianoRoll.css";

export interface PianoRollProps {
  trackId: string;
  clipId: string;
  onClose(): void;
}

const MIN_BEAT_PX = 16;
const MAX_BEAT_PX = 256;

export default function PianoRoll({ trackId, clipId, onClose }: PianoRollProps) {
  const { doc, canEdit } = useStudio();
  const tracks = useMidiTracks(doc);
  const meta = useMeta(doc);
  const track = tracks.find((t) => t.id === trackId) ?? null;
  const clip = findMidiClip(tracks, trackId, clipId);
  const titleId = useId();
  const helpId = useId();
  const [snap, setSnap] = useState(DEFAULT_SNAP_BEATS);
  const [beatPx, setBeatPx] = useState(DEFAULT_BEAT_PX);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [lastLength, setLastLength] = useState(1);
  const [message, setMessage] = useState("");
  const [sound, setSound] = useState<"loading" | "ready" | string>("loading");
  const [playing, setPlaying] = useState(false);
  const focusWanted = useRef<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const dialog = useRef<HTMLElement>(null);
  const session = midiSessionFor(doc);

  const selected = clip?.notes.find((n) => n.id === selectedId) ?? null;
  const lengthBeats = clip ? clipBeats(clip.durationS, meta.bpm) : 0;
  const widthBeats = clip ? gridBeats(lengthBeats, clip.notes, meta.beatsPerBar) + meta.beatsPerBar : 0;

  useEffect(() => {
    dialog.current?.focus();
    // The synthesizer and the SoundFont load while the person looks at the notes.
    let live = true;
    session
      .songPlayer()
      .then((player) => player.loaded())
      .then(
        () => live && setSound("ready"),
        (error: unknown) => live && setSound(error instanceof Error ? error.message : "the synthesizer could not start"),
      );
    return () => {
      live = false;
    };
  }, [session]);

  useLayoutEffect(() => {
    // Open on the notes (or middle C), once.
    const view = scroller.current;
    if (view) view.scrollTop = Math.max(0, pitchToY(centrePitch(clip?.notes ?? [])) - view.clientHeight / 2);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        event.preventDefault();
        onClose();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  const playingRef = useRef(false);
  playingRef.current = playing;
  // "Play clip" stops with the dialog.
  useEffect(() => () => void (playingRef.current && session.songPlayer().then((p) => p.stop(), () => undefined)), [session]);

  const preview = useCallback(
    (pitch: number, velocity: number) => {
      void session.songPlayer().then((p) => p.preview(trackId, pitch, velocity), () => undefined);
    },
    [session, trackId],
  );

  const actions = useMemo<NoteActions>(
    () => ({
      add: (pitch, startBeats) => {
        const id = addNote(doc, trackId, clipId, { pitch, startBeats, lengthBeats: lastLength, velocity: selected?.velocity });
        if (!id) {
          setMessage("This clip is full.");
          return;
        }
        setSelectedId(id);
        focusWanted.current = id;
        preview(pitch, selected?.velocity ?? 100);
        setMessage(`Added ${pitchName(pitch)}.`);
      },
      place: (note: MidiNote, place: NotePlace) => {
        updateNote(doc, trackId, clipId, note.id, place);
        if (place.lengthBeats !== note.lengthBeats) setLastLength(place.lengthBeats);
      },
      remove: (note: MidiNote) => {
        const list = clip?.notes ?? [];
        const index = list.findIndex((n) => n.id === note.id);
        const neighbour = list[index + 1] ?? list[index - 1] ?? null;
        removeNote(doc, trackId, clipId, note.id);
        setSelectedId(neighbour?.id ?? null);
        focusWanted.current = neighbour?.id ?? null;
        if (!neighbour) dialog.current?.focus();
        setMessage(`Deleted ${pitchName(note.pitch)}.`);
      },
      select: setSelectedId,
      preview,
    }),
    [doc, trackId, clipId, lastLength, selected, clip, preview],
  );

  const togglePlay = () => {
    if (!clip) return;
    void session.songPlayer().then((p) => {
      if (playing) p.stop();
      else p.start(clip.startS, { loop: { startS: clip.startS, endS: clip.startS + clip.durationS } });
    });
    setPlaying(!playing);
  };

  const addByKeyboard = () => {
    if (!clip) return;
    const pitch = selected?.pitch ?? centrePitch(clip.notes);
    const start = selected ? selected.startBeats + selected.lengthBeats : 0;
    actions.add(pitch, start);
  };

  const bars = clip ? clip.durationS / secondsPerBar(meta) : 1;
  return (
    <div className="overlay pr-overlay">
      <section ref={dialog} className="card pr-dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}>
        <header className="row wrap pr-head">
          <h2 id={titleId} className="grow">
            Piano roll{track ? `: ${track.name}` : ""}
            {clip ? <span className="muted"> · clip at {formatBarBeat(clip.startS, meta, false)}</span> : null}
          </h2>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </header>
        {!clip || !track ? (
          <p role="alert">This clip was deleted.</p>
        ) : (
          <>
            <div className="row wrap pr-tools" role="toolbar" aria-label="Piano roll tools">
              <label>
                Instrument{" "}
                <select value={track.instrument} disabled={!canEdit} onChange={(e) => setInstrument(doc, track.id, Number(e.currentTarget.value))}>
                  {GM_INSTRUMENTS.map((name, program) => (
                    <option key={program} value={program}>
                      {program + 1}. {name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Snap{" "}
                <select value={snap} onChange={(e) => setSnap(Number(e.currentTarget.value))}>
                  {SNAP_STEPS.map((step) => (
                    <option key={step.beats} value={step.beats}>
                      {step.label}
                    </option>
                  ))}
                </select>
              </label>
              <NumberField label="Clip length (bars)" value={bars} min={0.25} max={256} step={1} decimals={2} disabled={!canEdit} onCommit={(value) => resizeMidiClip(doc, track.id, clip.id, value * secondsPerBar(meta))} />
              <button type="button" aria-label="Zoom out" disabled={beatPx <= MIN_BEAT_PX} onClick={() => setBeatPx(Math.max(MIN_BEAT_PX, beatPx / 1.5))}>
                <span aria-hidden="true">−</span>
              </button>
              <button type="button" aria-label="Zoom in" disabled={beatPx >= MAX_BEAT_PX} onClick={() => setBeatPx(Math.min(MAX_BEAT_PX, beatPx * 1.5))}>
                <span aria-hidden="true">+</span>
              </button>
              <button type="button" aria-pressed={playing} onClick={togglePlay} disabled={sound !== "ready"}>
                {playing ? "Stop" : "Play clip"}
              </button>
              <span className="muted pr-sound" role="status">
                {sound === "loading" ? "Loading the instrument…" : sound === "ready" ? "" : `No sound: ${sound}`}
              </span>
            </div>
            <div className="row wrap pr-tools" role="group" aria-label="Selected note">
              <button type="button" disabled={!canEdit} onClick={addByKeyboard}>
                <span aria-hidden="true">+ </span>Add note
              </button>
              <NumberField label="Velocity" value={selected?.velocity ?? 0} min={1} max={127} step={1} decimals={0} disabled={!canEdit || !selected} onCommit={(value) => selected && setVelocity(doc, track.id, clip.id, selected.id, value)} />
              <button type="button" className="danger" disabled={!canEdit || !selected} onClick={() => selected && actions.remove(selected)}>
                Delete note
              </button>
              <span className="muted">{selected ? `${pitchName(selected.pitch)} selected` : `${clip.notes.length} ${clip.notes.length === 1 ? "note" : "notes"}`}</span>
            </div>
            <p id={helpId} className="sr-only">
              Left and Right move the note by a snap step, with Shift they shorten or lengthen it; Up and Down move it a semitone, with Shift an octave; Enter plays it; Delete removes it.
            </p>
            <p role="status" className="sr-only">
              {message}
            </p>
            <div ref={scroller} className="pr-scroll" style={{ ["--keys-w" as string]: `${KEYS_PX}px`, ["--row-h" as string]: `${ROW_PX}px` }}>
              <PianoRollGrid
                clip={clip}
                widthBeats={widthBeats}
                clipBeats={lengthBeats}
                beatsPerBar={meta.beatsPerBar}
                snap={snap}
                beatPx={beatPx}
                canEdit={canEdit}
                selectedId={selectedId}
                focusWanted={focusWanted}
                helpId={helpId}
                actions={actions}
              />
            </div>
          </>
        )}
      </section>
    </div>
  );
}

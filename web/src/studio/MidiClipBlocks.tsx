// The MIDI clips of a MIDI track on its timeline lane: each a block at its place and
// length with its notes drawn small; Enter or a click opens the clip's piano roll.
// What the lane shows is what plays: the same start, length and notes the server
// renders (notes past a clip's end are cut there).
import { lazy, Suspense, useRef, useState } from "react";
import { useMidiTracks } from "../doc/midiHooks";
import { formatClock, intersects } from "../timeline/math";
import { useStudio } from "./context";
import "./midi.css";

const PianoRoll = lazy(() => import("./PianoRoll"));

interface Props {
  trackId: string;
  trackName: string;
  pxPerS: number;
  fromS: number;
  toS: number;
}

export function MidiClipBlocks({ trackId, trackName, pxPerS, fromS, toS }: Props) {
  const { doc } = useStudio();
  const track = useMidiTracks(doc).find((t) => t.id === trackId);
  const [editing, setEditing] = useState<string | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  if (!track) return null;
  return (
    <>
      {track.clips
        .filter((clip) => intersects(clip.startS, clip.durationS, fromS, toS))
        .map((clip) => {
          const pitches = clip.notes.map((note) => note.pitch);
          const low = Math.min(...pitches, 60);
          const span = Math.max(12, Math.max(...pitches, 72) - low);
          const beats = Math.max(1e-9, clip.notes.reduce((end, n) => Math.max(end, n.startBeats + n.lengthBeats), 0));
          return (
            <button
              key={clip.id}
              type="button"
              className="arr-midi-clip"
              style={{ left: clip.startS * pxPerS, width: Math.max(4, clip.durationS * pxPerS) }}
              aria-label={`MIDI clip on ${trackName} at ${formatClock(clip.startS, false)}, ${clip.durationS.toFixed(1)} s, ${clip.notes.length} notes: open the piano roll`}
              onClick={(event) => {
                opener.current = event.currentTarget;
                setEditing(clip.id);
              }}
            >
              <svg aria-hidden="true" viewBox={`0 0 ${beats} ${span + 1}`} preserveAspectRatio="none">
                {clip.notes.map((note) => (
                  <rect
                    key={note.id}
                    x={note.startBeats}
                    y={span - (note.pitch - low)}
                    width={note.lengthBeats}
                    height={1}
                  />
                ))}
              </svg>
            </button>
          );
        })}
      {editing && (
        <Suspense fallback={<p role="status">Loading the piano roll…</p>}>
          <PianoRoll
            trackId={trackId}
            clipId={editing}
            onClose={() => {
              setEditing(null);
              opener.current?.focus();
            }}
          />
        </Suspense>
      )}
    </>
  );
}

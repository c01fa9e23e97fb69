// The transport: play/pause, stop, return to start, loop (the loop range or the selected
// clip), the live position (bar.beat and clock, written each frame through a ref) and
// the song's tempo. Space plays/pauses anywhere in the studio except while typing.
import { useEffect, useRef } from "react";
import { useMeta, useTracks } from "../doc/hooks";
import { clipEndS } from "../doc/model";
import { onFrame } from "../audio/frames";
import { usePlayerState } from "../audio/usePlayer";
import { barToSeconds, formatBarBeat, formatClock, type TimeGrid } from "../timeline/math";
import { useSelection } from "../timeline/selection";
import { useStudio } from "./context";
import "./timeline.css";

const DEFAULT_LOOP_BARS = 4;

/** Keys typed here belong to the field, not the transport. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='textbox'], .cm-editor")) return true;
  return false;
}

/** Space activates these natively; the transport leaves it to them. */
function activatesOnSpace(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  return !!target.closest("button, a[href], summary, [role='checkbox'], [role='switch'], [role='tab'], [role='menuitem'], [role='option'], [role='radio']");
}

export function Transport() {
  const { player, doc } = useStudio();
  const state = usePlayerState(player);
  const meta = useMeta(doc);
  const tracks = useTracks(doc);
  const selection = useSelection(doc);
  const bars = useRef<HTMLSpanElement>(null);
  const clock = useRef<HTMLSpanElement>(null);
  const customLoop = useRef(false);

  const grid: TimeGrid = { bpm: meta.bpm, beatsPerBar: meta.beatsPerBar, beatUnit: meta.beatUnit };
  const gridRef = useRef(grid);
  gridRef.current = grid;

  const selectedClip = selection
    ? (tracks.find((t) => t.id === selection.trackId)?.clips.find((c) => c.id === selection.clipId) ?? null)
    : null;

  // The default loop is the first bars of the song, following tempo changes until someone picks a range.
  useEffect(() => {
    if (!customLoop.current) player.setLoopRange({ startS: 0, endS: barToSeconds(DEFAULT_LOOP_BARS + 1, { bpm: meta.bpm, beatsPerBar: meta.beatsPerBar, beatUnit: meta.beatUnit }) });
  }, [player, meta.bpm, meta.beatsPerBar, meta.beatUnit]);

  useEffect(() => {
    let shown = -1;
    let shownBpm = 0;
    let shownBeats = 0;
    return onFrame(() => {
      const t = player.position();
      const g = gridRef.current;
      if (t === shown && g.bpm === shownBpm && g.beatsPerBar === shownBeats) return;
      shown = t;
      shownBpm = g.bpm;
      shownBeats = g.beatsPerBar;
      if (bars.current) bars.current.textContent = formatBarBeat(t, g);
      if (clock.current) clock.current.textContent = formatClock(t);
    });
  }, [player]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
      if (event.key === " " || event.code === "Space") {
        if (activatesOnSpace(event.target)) return;
        event.preventDefault();
        if (!event.repeat) player.toggle();
      } else if (event.key === "Home") {
        event.preventDefault();
        player.seek(0);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [player]);

  const loopRangeText = `${formatBarBeat(state.loopRange.startS, grid, false)}–${formatBarBeat(state.loopRange.endS, grid, false)}`;

  return (
    <div className="transport" role="group" aria-label="Transport">
      <button type="button" className="tp-play primary" aria-label={state.playing ? "Pause" : "Play"} title={state.playing ? "Pause (Space)" : "Play (Space)"} onClick={() => player.toggle()}>
        <span className="tp-icon" aria-hidden="true">
          {state.playing ? "❚❚" : "▶"}
        </span>{" "}
        <span aria-hidden="true">{state.playing ? "Pause" : "Play"}</span>
      </button>
      <button type="button" aria-label="Stop" title="Stop (twice: back to the start)" onClick={() => player.stop()}>
        <span aria-hidden="true">■</span>
      </button>
      <button type="button" aria-label="Return to start" title="Return to start (Home)" onClick={() => player.seek(0)}>
        <span aria-hidden="true">⇤</span>
      </button>
      <button
        type="button"
        aria-pressed={state.loop}
        title={`Loop bars ${loopRangeText}`}
        onClick={() => player.setLoop(state.loop ? null : state.loopRange)}
      >
        <span aria-hidden="true">⟲ </span>Loop
      </button>
      <button
        type="button"
        disabled={!selectedClip}
        title="Loop over the selected clip"
        onClick={() => {
          if (!selectedClip) return;
          customLoop.current = true;
          player.setLoop({ startS: selectedClip.startS, endS: clipEndS(selectedClip) });
        }}
      >
        Loop selected clip
      </button>
      <div className="tp-position" role="timer" aria-live="off" aria-label="Position">
        <span ref={bars} className="tp-bars">
          1.1.000
        </span>
        <span ref={clock} className="tp-clock">
          0:00.000
        </span>
      </div>
      <span className="tp-meta">
        {meta.bpm} BPM · {meta.timeSignature}
        {state.loop ? ` · loop ${loopRangeText}` : ""}
      </span>
      {state.loading && (
        <span className="tp-status" role="status">
          Loading audio…
        </span>
      )}
      {state.error && (
        <span className="tp-status error" role="alert">
          {state.error}
        </span>
      )}
    </div>
  );
}

// One track's header in the arrangement: name, kind, mute/solo, the automation row's
// toggle, volume and pan (written live, throttled), reorder by drag or from the track
// menu, effects, delete, and the figures of the track's analysis job.
import { useEffect, useId, useRef, useState } from "react";
import type React from "react";
import { createPortal } from "react-dom";
import { useJobs } from "../doc/hooks";
import { moveTrack, removeTrack, setTrackField, type Track, type TrackKind } from "../doc/model";
import { automationViewFor, useAutomationView } from "../timeline/automationView";
import { useStudio } from "./context";
import { EffectsEditor } from "./EffectsEditor";
import { analysisClipped, analysisJobOf, analysisSummary, formatDb, formatPan, panText } from "./figures";
import { useLiveValue } from "./useLiveValue";
import "./trackHeader.css";

/** The drag payload type of a track being reordered (files and clips use others). */
export const TRACK_DRAG_TYPE = "application/x-jacameno-track";

// Plain text glyphs: emoji fonts are not everywhere.
const KIND_ICONS: Record<TrackKind, string> = { audio: "∿", vocal: "♪", instrument: "♫", bus: "⇶", midi: "♬" };
const VOLUME_MIN_DB = -60;
const VOLUME_MAX_DB = 6;

export function TrackHeader({ track, index, count }: { track: Track; index: number; count: number }) {
  const { doc, canEdit } = useStudio();
  const jobs = useJobs(doc);
  const [dropSide, setDropSide] = useState<"before" | "after" | null>(null);
  const [effectsOpen, setEffectsOpen] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const analysis = analysisJobOf(jobs, track);

  const onDragOver = (event: React.DragEvent) => {
    if (!canEdit || !event.dataTransfer.types.includes(TRACK_DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    const box = event.currentTarget.getBoundingClientRect();
    setDropSide(event.clientY < box.top + box.height / 2 ? "before" : "after");
  };
  const onDrop = (event: React.DragEvent) => {
    const id = event.dataTransfer.getData(TRACK_DRAG_TYPE);
    setDropSide(null);
    if (!canEdit || !id || id === track.id) return;
    event.preventDefault();
    moveTrack(doc, id, index);
  };

  const classes = ["track-header", track.mute ? "is-muted" : "", track.solo ? "is-solo" : "", dropSide ? `drop-${dropSide}` : ""];
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      role="group"
      aria-label={`Track ${track.name}`}
      onDragOver={onDragOver}
      onDragLeave={() => setDropSide(null)}
      onDrop={onDrop}
    >
      <div className="th-line">
        <span
          className="th-handle"
          draggable={canEdit}
          aria-hidden="true"
          title={canEdit ? "Drag to reorder (or use the track menu)" : undefined}
          onDragStart={(event) => {
            event.dataTransfer.setData(TRACK_DRAG_TYPE, track.id);
            event.dataTransfer.effectAllowed = "move";
            const row = event.currentTarget.closest(".track-header");
            if (row) event.dataTransfer.setDragImage(row, 12, 12);
          }}
        >
          ⠿
        </span>
        <span className="th-kind" role="img" aria-label={`${track.kind} track`} title={`${track.kind} track`}>
          {KIND_ICONS[track.kind]}
        </span>
        <TrackName track={track} disabled={!canEdit} />
        <button
          ref={menuButton}
          type="button"
          className="th-menu-button"
          aria-label={`Track menu of ${track.name}`}
          title="Track menu"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((open) => !open)}
        >
          ⋯
        </button>
      </div>
      <TrackMenu
        open={menuOpen}
        setOpen={setMenuOpen}
        anchor={menuButton}
        track={track}
        index={index}
        count={count}
        canEdit={canEdit}
        onEffects={() => setEffectsOpen(true)}
      />
      <div className="th-line">
        <ToggleButton track={track} field="mute" letter="M" label="Mute" disabled={!canEdit} />
        <ToggleButton track={track} field="solo" letter="S" label="Solo" disabled={!canEdit} />
        <AutomationToggle track={track} />
        <LiveSlider
          track={track}
          field="volume_db"
          label={`Volume of ${track.name}`}
          min={VOLUME_MIN_DB}
          max={VOLUME_MAX_DB}
          step={0.5}
          reset={0}
          value={track.volumeDb}
          show={formatDb}
          speak={formatDb}
          disabled={!canEdit}
          className="th-volume"
        />
      </div>
      <div className="th-line">
        <LiveSlider
          track={track}
          field="pan"
          label={`Pan of ${track.name}`}
          min={-1}
          max={1}
          step={0.01}
          reset={0}
          value={track.pan}
          show={formatPan}
          speak={panText}
          disabled={!canEdit}
          className="th-pan"
        />
        <AnalysisLine job={analysis} trackName={track.name} />
      </div>
      {effectsOpen && <EffectsEditor track={track} onClose={() => setEffectsOpen(false)} returnFocus={menuButton} />}
    </div>
  );
}

function TrackName({ track, disabled }: { track: Track; disabled: boolean }) {
  const { doc } = useStudio();
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const name = draft.trim().slice(0, 200);
    if (name && name !== track.name) setTrackField(doc, track.id, "name", name);
    setDraft(null);
  };
  return (
    <input
      className="th-name"
      aria-label={`Name of track ${track.name}`}
      value={draft ?? track.name}
      disabled={disabled}
      maxLength={200}
      onChange={(e) => setDraft(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === "Enter") {
          commit();
          e.currentTarget.blur();
        } else if (e.key === "Escape") {
          setDraft(null);
          e.currentTarget.blur();
        }
      }}
    />
  );
}

function ToggleButton({
  track,
  field,
  letter,
  label,
  disabled,
}: {
  track: Track;
  field: "mute" | "solo";
  letter: string;
  label: string;
  disabled: boolean;
}) {
  const { doc } = useStudio();
  const on = track[field];
  return (
    <button
      type="button"
      className={`th-toggle th-${field}`}
      aria-pressed={on}
      aria-label={`${label} ${track.name}`}
      title={`${label}${on ? " (on)" : ""}`}
      disabled={disabled}
      onClick={() => setTrackField(doc, track.id, field, !on)}
    >
      {letter}
    </button>
  );
}

/** Opens the track's automation row; underlined while a lane has points (they rule over the sliders). */
function AutomationToggle({ track }: { track: Track }) {
  const { doc } = useStudio();
  const open = useAutomationView(doc).shown.has(track.id);
  const lanes = [track.volumeLane.length ? `volume (${track.volumeLane.length} points)` : "", track.panLane.length ? `pan (${track.panLane.length} points)` : ""].filter(Boolean);
  return (
    <button
      type="button"
      className={`th-toggle th-auto${lanes.length ? " has-points" : ""}`}
      aria-pressed={open}
      aria-label={`Automation of ${track.name}`}
      title={`Automation${lanes.length ? `: ${lanes.join(", ")} set the track's level` : ""}`}
      onClick={() => automationViewFor(doc).toggle(track.id)}
    >
      A
    </button>
  );
}

interface LiveSliderProps {
  track: Track;
  field: "volume_db" | "pan";
  label: string;
  min: number;
  max: number;
  step: number;
  reset: number;
  value: number;
  show: (value: number) => string;
  speak: (value: number) => string;
  disabled: boolean;
  className: string;
}

/** A range input whose drags reach peers live (≤ 10 writes/s) and whose release lands exactly. */
function LiveSlider({ track, field, label, min, max, step, reset, value, show, speak, disabled, className }: LiveSliderProps) {
  const { doc } = useStudio();
  const trackId = track.id;
  const live = useLiveValue(value, (v) => setTrackField(doc, trackId, field, v), reset, disabled, [doc, trackId, field]);
  const shown = live.shown;
  const outputId = useId();
  return (
    <span className={`th-slider ${className}`}>
      <input
        type="range"
        min={min}
        max={max}
        step={step}
        value={Math.min(max, Math.max(min, shown))}
        aria-label={label}
        aria-valuetext={speak(shown)}
        aria-describedby={outputId}
        disabled={disabled}
        title={`${label}: ${show(shown)} (double-click to reset)`}
        onChange={(e) => live.change(Number(e.currentTarget.value))}
        onPointerUp={live.release}
        onKeyUp={live.release}
        onBlur={live.release}
        onDoubleClick={live.reset}
      />
      <output id={outputId} className="th-value">
        {show(shown)}
      </output>
    </span>
  );
}

function AnalysisLine({ job, trackName }: { job: ReturnType<typeof analysisJobOf>; trackName: string }) {
  if (!job) return <span className="th-figures muted" />;
  if (job.status === "done") {
    const text = analysisSummary(job.result);
    const clipped = analysisClipped(job.result);
    return (
      <span className="th-figures" title={`${text}${clipped ? " · clipping found" : ""}`}>
        {clipped && (
          <span className="th-clip" role="img" aria-label="clipping found">
            ⚠
          </span>
        )}
        {text}
      </span>
    );
  }
  if (job.status === "failed") {
    return (
      <span className="th-figures th-failed" title={job.error ?? "analysis failed"}>
        <span aria-hidden="true">⚠ </span>
        analysis failed: {job.error ?? "unknown error"}
      </span>
    );
  }
  const percent = Math.round(job.progress * 100);
  return (
    <span className="th-figures th-running">
      <span>{job.status === "queued" ? "analysis queued" : `analysing… ${percent}%`}</span>
      <span
        className="th-progress"
        role="progressbar"
        aria-label={`Analysis of ${trackName}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <span style={{ width: `${percent}%` }} />
      </span>
    </span>
  );
}

interface TrackMenuProps {
  open: boolean;
  setOpen: (open: boolean) => void;
  anchor: React.RefObject<HTMLButtonElement>;
  track: Track;
  index: number;
  count: number;
  canEdit: boolean;
  onEffects: () => void;
}

/** The disclosure behind "⋯": move up/down, effects, delete (with a confirm step). */
function TrackMenu({ open, setOpen, anchor, track, index, count, canEdit, onEffects }: TrackMenuProps) {
  const { doc } = useStudio();
  const [confirming, setConfirming] = useState(false);
  const [position, setPosition] = useState<{ top: number; left: number }>({ top: 0, left: 0 });
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const button = anchor.current;
    if (!open || !button) return;
    // Placed under its button, inside the window; again when the row moves.
    const box = button.getBoundingClientRect();
    const width = 230;
    setPosition({ top: box.bottom + 4, left: Math.max(8, Math.min(box.right - width, window.innerWidth - width - 8)) });
  }, [open, anchor, index]);

  useEffect(() => {
    if (!open) {
      setConfirming(false);
      return;
    }
    panel.current?.querySelector<HTMLButtonElement>("button:not(:disabled)")?.focus();
    const close = (event: Event) => {
      const target = event.target as Node;
      if (panel.current?.contains(target) || anchor.current?.contains(target)) return;
      setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        anchor.current?.focus();
      }
    };
    document.addEventListener("pointerdown", close);
    document.addEventListener("keydown", onKey);
    window.addEventListener("resize", close);
    return () => {
      document.removeEventListener("pointerdown", close);
      document.removeEventListener("keydown", onKey);
      window.removeEventListener("resize", close);
    };
  }, [open, anchor, setOpen]);

  if (!open) return null;
  const done = (fn: () => void) => () => {
    fn();
    setOpen(false);
    anchor.current?.focus();
  };
  return createPortal(
    <div
      ref={panel}
      className="th-menu"
      role="group"
      aria-label={`Track menu of ${track.name}`}
      style={{ top: position.top, left: position.left }}
      // Portal events bubble through the React tree: keep them from the arrangement's handlers.
      onPointerDown={(event) => event.stopPropagation()}
      onClick={(event) => event.stopPropagation()}
      onKeyDown={(event) => {
        event.stopPropagation();
        // Arrow keys walk the menu's buttons.
        if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
        event.preventDefault();
        const buttons = Array.from(panel.current?.querySelectorAll<HTMLButtonElement>("button:not(:disabled)") ?? []);
        const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
        buttons[(at + (event.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length]?.focus();
      }}
      onBlur={(event) => {
        const next = event.relatedTarget as Node | null;
        if (next && !panel.current?.contains(next) && !anchor.current?.contains(next)) setOpen(false);
      }}
    >
      <button type="button" disabled={!canEdit || index === 0} onClick={() => moveTrack(doc, track.id, index - 1)}>
        <span aria-hidden="true">↑ </span>
        Move {track.name} up
      </button>
      <button type="button" disabled={!canEdit || index >= count - 1} onClick={() => moveTrack(doc, track.id, index + 1)}>
        <span aria-hidden="true">↓ </span>
        Move {track.name} down
      </button>
      <button
        type="button"
        onClick={() => {
          setOpen(false);
          onEffects();
        }}
      >
        <span aria-hidden="true">✦ </span>
        Effects of {track.name}
        {track.effects.length > 0 && ` (${track.effects.length})`}
      </button>
      {!confirming ? (
        <button type="button" className="danger" disabled={!canEdit} onClick={() => setConfirming(true)}>
          <span aria-hidden="true">✕ </span>
          Delete {track.name}
        </button>
      ) : (
        <div className="th-confirm" role="alert">
          <p>Delete {track.name} and its clips for everyone?</p>
          <div className="row">
            <button type="button" className="danger" onClick={done(() => removeTrack(doc, track.id))}>
              Yes, delete {track.name}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}
    </div>,
    document.body,
  );
}

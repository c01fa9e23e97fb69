// The arrangement: a ruler, one row per track (header + lane of clips) and, when opened,
// its automation row; the grid, the playheads, zoom and snapping; the selected clip's
// inspector. Headers stay put while the lanes scroll sideways (sticky column in one
// scroll box). Only clips near the view are drawn.
import { Fragment, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useCoaching, useComments, useEvent, useMeta, useTracks } from "../doc/hooks";
import { addTrack, clipEndS, moveClipToTrack, removeClip, splitClip, updateClip, type Clip, type CoachingNote } from "../doc/model";
import { assetDuration } from "../audio/peaks";
import { usePlayerState } from "../audio/usePlayer";
import {
  DEFAULT_PX_PER_S,
  ZOOM_STEP,
  clampZoom,
  gridLines,
  gridStep,
  secondsPerBar,
  stepTime,
  zoomAround,
  type TimeGrid,
} from "../timeline/math";
import { selectionFor, useSelection } from "../timeline/selection";
import { useAutomationView } from "../timeline/automationView";
import { AutomationHeader, AutomationLane } from "./AutomationLane";
import { ClipInspector } from "./ClipInspector";
import { useStudio } from "./context";
import { TimelinePlayheads } from "./TimelinePlayheads";
import { TimelineHeader, TimelineRow } from "./TimelineRow";
import { TimelineRuler } from "./TimelineRuler";
import type { ClipActions } from "./TimelineClip";
import { DROP_HINT, useAudioDrop } from "./useAudioDrop";
import "./timeline.css";

/** Extra song drawn after the last clip, in bars. */
const TAIL_BARS = 8;

interface Window {
  fromS: number;
  toS: number;
}

function windowFor(scrollLeft: number, viewW: number, pxPerS: number): Window {
  // The view plus one view's width either side: re-rendered only when the view leaves it.
  return { fromS: Math.max(0, (scrollLeft - viewW) / pxPerS), toS: (scrollLeft + 2 * viewW) / pxPerS };
}

export function Arrangement() {
  const { doc, api, player, awareness, canEdit } = useStudio();
  const tracks = useTracks(doc);
  const meta = useMeta(doc);
  const comments = useComments(doc);
  const coaching = useCoaching(doc);
  const playerState = usePlayerState(player);
  const selection = useSelection(doc);
  const selectionStore = selectionFor(doc);
  const { dropProps, dragging } = useAudioDrop();
  const helpId = useId();
  const automationHelpId = useId();
  const automation = useAutomationView(doc);

  const [pxPerS, setPxPerS] = useState(DEFAULT_PX_PER_S);
  const [snap, setSnap] = useState(true);
  const [viewW, setViewW] = useState(800);
  const [win, setWin] = useState<Window>({ fromS: 0, toS: 60 });
  const [message, setMessage] = useState("");
  const scroller = useRef<HTMLDivElement>(null);
  const pendingScroll = useRef<number | null>(null);

  const grid = useMemo<TimeGrid>(() => ({ bpm: meta.bpm, beatsPerBar: meta.beatsPerBar, beatUnit: meta.beatUnit }), [meta.bpm, meta.beatsPerBar, meta.beatUnit]);
  const step = gridStep(grid, pxPerS);
  const barS = secondsPerBar(grid);

  let songEnd = 0;
  for (const track of tracks) for (const clip of track.clips) songEnd = Math.max(songEnd, clipEndS(clip));
  const headerPx = () => scroller.current?.querySelector<HTMLElement>(".arr-corner")?.offsetWidth ?? 0;
  const contentS = Math.max(songEnd + TAIL_BARS * barS, playerState.loopRange.endS + barS, viewW / pxPerS);
  const widthPx = Math.ceil(contentS * pxPerS);

  // ---------------------------------------------------------- view window and zoom

  const refreshWindow = useCallback(() => {
    const view = scroller.current;
    if (!view) return;
    const lanesW = Math.max(100, view.clientWidth - headerPx());
    setViewW(lanesW);
    const visibleFrom = view.scrollLeft / pxPerS;
    const visibleTo = (view.scrollLeft + lanesW) / pxPerS;
    setWin((current) =>
      visibleFrom >= current.fromS && visibleTo <= current.toS && current.toS - current.fromS <= (4 * lanesW) / pxPerS
        ? current
        : windowFor(view.scrollLeft, lanesW, pxPerS),
    );
  }, [pxPerS]);

  useLayoutEffect(() => {
    const view = scroller.current;
    if (view && pendingScroll.current !== null) {
      view.scrollLeft = pendingScroll.current;
      pendingScroll.current = null;
    }
    const lanesW = Math.max(100, (view?.clientWidth ?? 800) - headerPx());
    setWin(windowFor(view?.scrollLeft ?? 0, lanesW, pxPerS));
  }, [pxPerS]);

  useEffect(() => {
    const view = scroller.current;
    if (!view) return;
    let frame = 0;
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(() => ((frame = 0), refreshWindow()));
    };
    view.addEventListener("scroll", onScroll, { passive: true });
    const observer = new ResizeObserver(onScroll);
    observer.observe(view);
    return () => {
      view.removeEventListener("scroll", onScroll);
      observer.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [refreshWindow]);

  const zoom = useEvent((factor: number, anchorClientX?: number) => {
    const view = scroller.current;
    if (!view) return;
    const box = view.getBoundingClientRect();
    const lanesW = view.clientWidth - headerPx();
    const anchor = anchorClientX === undefined ? lanesW / 2 : Math.max(0, anchorClientX - box.left - headerPx());
    const next = zoomAround(pxPerS, factor, view.scrollLeft, anchor);
    if (next.pxPerS === pxPerS) return;
    pendingScroll.current = next.scrollPx;
    setPxPerS(next.pxPerS);
  });

  useEffect(() => {
    const view = scroller.current;
    if (!view) return;
    // ctrl/cmd + wheel zooms around the pointer (non-passive, to keep the page from zooming).
    const onWheel = (event: WheelEvent) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      zoom(Math.exp(-event.deltaY * 0.002), event.clientX);
    };
    view.addEventListener("wheel", onWheel, { passive: false });
    return () => view.removeEventListener("wheel", onWheel);
  }, [zoom]);

  // ---------------------------------------------------------- clip actions

  const latest = useRef({ tracks, stepS: step.stepS, barS });
  latest.current = { tracks, stepS: step.stepS, barS };

  const actions = useMemo<ClipActions>(
    () => ({
      select: (clip) => selectionStore.set(clip ? { trackId: clip.trackId, clipId: clip.id } : null),
      takeFocus: (clipId) => selectionStore.takeFocus(clipId),
      move: (clip, startS, trackDelta) => {
        const list = latest.current.tracks;
        const index = list.findIndex((t) => t.id === clip.trackId);
        const target = Math.max(0, Math.min(list.length - 1, index + trackDelta));
        if (index < 0) return;
        if (target === index) {
          if (startS !== clip.startS) updateClip(doc, clip.trackId, clip.id, { startS });
          return;
        }
        const id = moveClipToTrack(doc, clip, list[target].id, startS);
        selectionStore.set({ trackId: list[target].id, clipId: id }, true);
        setMessage(`Moved to ${list[target].name}.`);
      },
      trim: (clip, span) => updateClip(doc, clip.trackId, clip.id, span),
      edit: (clip, fields) => updateClip(doc, clip.trackId, clip.id, fields),
      nudge: (clip, direction, bar) => {
        const stepS = bar ? latest.current.barS : latest.current.stepS;
        updateClip(doc, clip.trackId, clip.id, { startS: stepTime(clip.startS, stepS, direction) });
      },
      split: (clip) => {
        const at = player.position();
        if (clip.loopCount > 1) {
          setMessage("A looped clip cannot be split: set its loops to 1 first.");
          return;
        }
        const id = splitClip(doc, clip, at);
        setMessage(id ? "Clip split at the playhead." : "The playhead is not inside this clip: move it there to split.");
      },
      remove: (clip) => {
        const track = latest.current.tracks.find((t) => t.id === clip.trackId);
        const index = track?.clips.findIndex((c) => c.id === clip.id) ?? -1;
        const neighbour = track && index >= 0 ? (track.clips[index + 1] ?? track.clips[index - 1] ?? null) : null;
        removeClip(doc, clip.trackId, clip.id);
        selectionStore.set(neighbour ? { trackId: neighbour.trackId, clipId: neighbour.id } : null, true);
        setMessage("Clip deleted.");
      },
      assetLength: (clip: Clip) => assetDuration(api, clip.assetId),
    }),
    [doc, api, player, selectionStore],
  );

  const selectedTrack = selection ? (tracks.find((t) => t.id === selection.trackId) ?? null) : null;
  const selectedClip = selection ? (selectedTrack?.clips.find((c) => c.id === selection.clipId) ?? null) : null;

  // ---------------------------------------------------------- markers

  const pinned = useMemo(() => comments.filter((c) => c.timeS !== null && !c.resolved && !c.replyTo), [comments]);
  const notesByTrack = useMemo(() => {
    const map = new Map<string, CoachingNote[]>();
    for (const entry of coaching) map.set(entry.trackId, entry.notes);
    return map;
  }, [coaching]);

  const lines = useMemo(() => gridLines(grid, win.fromS, win.toS, pxPerS), [grid, win, pxPerS]);
  const seek = useCallback((t: number) => player.seek(t), [player]);
  // The slider's value as of the last transport change (not updated per frame).
  const stoppedAt = player.position();

  return (
    <section className={`arrangement${dragging ? " is-drop-target" : ""}`} aria-label="Arrangement" {...dropProps}>
      <div className="arr-tools" role="toolbar" aria-label="Arrangement tools">
        <button type="button" onClick={() => zoom(1 / ZOOM_STEP)} disabled={clampZoom(pxPerS / ZOOM_STEP) === pxPerS} aria-label="Zoom out" title="Zoom out (Ctrl + wheel)">
          <span aria-hidden="true">−</span>
        </button>
        <button type="button" onClick={() => zoom(ZOOM_STEP)} disabled={clampZoom(pxPerS * ZOOM_STEP) === pxPerS} aria-label="Zoom in" title="Zoom in (Ctrl + wheel)">
          <span aria-hidden="true">+</span>
        </button>
        <button type="button" aria-pressed={snap} onClick={() => setSnap(!snap)} title="Snap to grid (hold Alt while dragging to move freely)">
          Snap to grid
        </button>
        <span className="arr-grid-name muted">Grid: {gridName(step.level, step.count)}</span>
        <span className="grow" />
        <button type="button" disabled={!canEdit || !selectedClip} onClick={() => selectedClip && actions.split(selectedClip)}>
          Split clip at playhead
        </button>
        <button type="button" className="danger" disabled={!canEdit || !selectedClip} onClick={() => selectedClip && actions.remove(selectedClip)}>
          Delete clip
        </button>
      </div>
      {selectedClip && selectedTrack && <ClipInspector clip={selectedClip} trackName={selectedTrack.name} canEdit={canEdit} onEdit={(fields) => actions.edit(selectedClip, fields)} />}
      <p id={helpId} className="sr-only">
        Arrow keys move the clip by a grid step, with Shift by a bar; Up and Down move it to the track above or below; S splits it at the playhead; Delete removes it. Its fades, loops and gain are in the clip inspector.
      </p>
      <p id={automationHelpId} className="sr-only">
        Click the lane to add a point. On a point, Left and Right move it by a grid step, Up and Down change its value, with Shift in finer steps; Delete removes it.
      </p>
      <p role="status" className="sr-only">
        {message}
      </p>
      <div className="arr-scroll" ref={scroller}>
        <div className="arr-content" style={{ width: `calc(var(--header-w) + ${widthPx}px)` }}>
          <div className="arr-headcol">
            <div className="arr-corner">
              <span className="muted">Tracks</span>
            </div>
            {tracks.map((track, index) => {
              const lane = automation.shown.get(track.id);
              return (
                <Fragment key={track.id}>
                  <div className="arr-head">
                    <TimelineHeader track={track} index={index} count={tracks.length} />
                  </div>
                  {lane && (
                    <div className="arr-head arr-auto-head">
                      <AutomationHeader track={track} lane={lane} />
                    </div>
                  )}
                </Fragment>
              );
            })}
            <div className="arr-add">
              <button
                type="button"
                disabled={!canEdit}
                onClick={() => {
                  const name = `Track ${tracks.length + 1}`;
                  addTrack(doc, name);
                  setMessage(`${name} added.`);
                }}
              >
                <span aria-hidden="true">+ </span>Add track
              </button>
            </div>
          </div>
          <div className="arr-lanes" style={{ width: widthPx }}>
            <div className="arr-grid" aria-hidden="true">
              {lines.map((line) => (
                <span key={line.timeS} className={`grid-line is-${line.kind}`} style={{ transform: `translateX(${line.timeS * pxPerS}px)` }} />
              ))}
            </div>
            <TimelineRuler
              grid={grid}
              pxPerS={pxPerS}
              widthPx={widthPx}
              fromS={win.fromS}
              toS={win.toS}
              durationS={songEnd}
              positionS={stoppedAt}
              stepS={step.stepS}
              snap={snap}
              loop={playerState.loop}
              loopRange={playerState.loopRange}
              comments={pinned}
              seek={seek}
            />
            {tracks.map((track) => {
              const lane = automation.shown.get(track.id);
              return (
                <Fragment key={track.id}>
                  <TimelineRow
                    track={track}
                    pxPerS={pxPerS}
                    grid={grid}
                    stepS={step.stepS}
                    snap={snap}
                    selectedClipId={selection?.trackId === track.id ? selection.clipId : null}
                    canEdit={canEdit}
                    api={api}
                    actions={actions}
                    fromS={win.fromS}
                    toS={win.toS}
                    notes={notesByTrack.get(track.id)}
                    helpId={helpId}
                  />
                  {lane && (
                    <AutomationLane track={track} lane={lane} pxPerS={pxPerS} fromS={win.fromS} toS={win.toS} stepS={step.stepS} snap={snap} helpId={automationHelpId} />
                  )}
                </Fragment>
              );
            })}
            <div className="arr-footer">
              {tracks.length === 0 && (
                <div className="arr-empty">
                  <p>
                    <strong>No tracks yet.</strong>
                  </p>
                  <p className="muted">
                    {canEdit
                      ? "Upload audio (or drop audio files here) and each file becomes a track with its clip, or add an empty track."
                      : "When someone uploads audio or adds a track, it appears here."}
                  </p>
                </div>
              )}
            </div>
            <TimelinePlayheads player={player} awareness={awareness} pxPerS={pxPerS} scroller={scroller} follow />
          </div>
        </div>
      </div>
      {dragging && (
        <div className="arr-drop-hint" aria-hidden="true">
          {DROP_HINT}
        </div>
      )}
    </section>
  );
}

function gridName(level: string, count: number): string {
  if (level === "sub") return `1/${Math.round(1 / count)} beat`;
  if (level === "beat") return count === 1 ? "beat" : `${count} beats`;
  if (level === "bar") return "bar";
  return `${count} bars`;
}

// Coaching: for each coached track, the take's figures, its notes (each one a jump to
// that moment in the song) and the pitch curve picture the coaching job drew.
import { FigureList } from "./FigureList";
import { useEffect, useState } from "react";
import { assetBytes } from "../api/assets";
import { useCoaching, useJobs, useTracks } from "../doc/hooks";
import type { Coaching, Job } from "../doc/model";
import { useStudio } from "./context";
import { formatTime } from "./figures";
import { coachingFigures, jobStatusText, outputAssetId } from "./jobFigures";
import "./jobs.css";

const NOTE_ICONS: Record<string, string> = {
  flat: "♭",
  sharp: "♯",
  early: "⇤",
  late: "⇥",
  missed: "✕",
  phrase: "⌒",
  breath: "◦",
};

/** The newest coaching job of a track. */
function coachingJobOf(jobs: Job[], trackId: string): Job | null {
  return (
    jobs.find((j) => j.kind === "coaching" && (j.params.track_id === trackId || j.result?.track_id === trackId)) ?? null
  );
}

export function CoachingPanel() {
  const { doc } = useStudio();
  const coaching = useCoaching(doc);
  const tracks = useTracks(doc);
  const jobs = useJobs(doc);
  const nameOf = (id: string) => tracks.find((t) => t.id === id)?.name ?? "A deleted track";
  // Coaching jobs still running for tracks that have no coaching yet.
  const pending = jobs.filter(
    (j) => j.kind === "coaching" && (j.status === "queued" || j.status === "running") && !coaching.some((c) => c.trackId === j.params.track_id),
  );
  const sorted = [...coaching].sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));

  if (!sorted.length && !pending.length) {
    return (
      <p className="muted">
        No coaching yet. Ask for it in the Mix &amp; master tab: pick a vocal track and press Coach.
      </p>
    );
  }
  return (
    <div className="coaching-panel">
      {pending.map((job) => (
        <p key={job.id} role="status" className="muted">
          Coaching {typeof job.params.track_id === "string" ? nameOf(job.params.track_id) : "a track"}: {jobStatusText(job)}
        </p>
      ))}
      {sorted.map((entry) => (
        <CoachedTrack key={entry.trackId} entry={entry} name={nameOf(entry.trackId)} job={coachingJobOf(jobs, entry.trackId)} />
      ))}
    </div>
  );
}

function CoachedTrack({ entry, name, job }: { entry: Coaching; name: string; job: Job | null }) {
  const { player } = useStudio();
  const figures = coachingFigures(entry.summary);
  const headingId = `coaching-${entry.trackId}`;
  const running = job && (job.status === "queued" || job.status === "running");
  // The picture belongs to the newest finished job of this track.
  const pictureId = job?.status === "done" ? outputAssetId(job) : null;
  const seek = (timeS: number) => {
    // The player may be an older build without seek (it is another module's work).
    const target = player as unknown as { seek?: (t: number) => void };
    if (typeof target.seek === "function") target.seek(timeS);
  };
  return (
    <section className="coached" aria-labelledby={headingId}>
      <h2 id={headingId}>{name}</h2>
      {running && (
        <p role="status" className="muted">
          New coaching: {jobStatusText(job)}
        </p>
      )}
      {job?.status === "failed" && <p className="error">The latest coaching failed: {job.error ?? "unknown error"}</p>}
      <FigureList figures={figures} />
      {pictureId && <PitchCurve assetId={pictureId} trackName={name} />}
      <h3>Notes ({entry.notes.length})</h3>
      {entry.notes.length === 0 ? (
        <p className="muted">Nothing to point out in this take.</p>
      ) : (
        <ol className="cp-notes">
          {entry.notes.map((note, i) => {
            const range = `${formatTime(note.startS)}${note.endS !== null && note.endS > note.startS ? `–${formatTime(note.endS)}` : ""}`;
            return (
              <li key={`${note.startS}-${i}`} className={`cp-note cp-note-${note.kind}`}>
                <span className="cp-note-time">{range}</span>
                <span className="cp-note-kind">
                  <span aria-hidden="true">{NOTE_ICONS[note.kind] ?? "•"} </span>
                  {note.kind}
                </span>
                <span className="cp-note-message">{note.message}</span>
                <button type="button" className="small" aria-label={`Go to ${range}: ${note.kind}`} onClick={() => seek(note.startS)}>
                  Go to
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

function PitchCurve({ assetId, trackName }: { assetId: string; trackName: string }) {
  const { api } = useStudio();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let made: string | null = null;
    assetBytes(api, assetId).then(
      (bytes) => {
        if (!live) return;
        made = URL.createObjectURL(new Blob([bytes], { type: "image/svg+xml" }));
        setUrl(made);
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, assetId]);
  if (error) return <p className="error">The pitch curve could not be loaded: {error}</p>;
  if (!url) return <p className="muted" role="status">Loading the pitch curve…</p>;
  return (
    <figure className="pitch-curve">
      <img src={url} alt={`Pitch curve of ${trackName}: the sung pitch over time against the nearest notes, with the coaching notes marked`} />
      <figcaption className="muted">Sung pitch over time; flagged notes are marked.</figcaption>
    </figure>
  );
}

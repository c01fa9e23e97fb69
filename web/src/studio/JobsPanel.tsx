// "Mix & master": ask for a mix, a master or coaching, and follow every job of the
// project as the document reports it (status, progress, errors, results to hear and
// download). Viewers see the results; only editors start jobs.
import { FigureList } from "./FigureList";
import { useEffect, useState } from "react";
import type React from "react";
import { ApiError } from "../api/client";
import { assetObjectUrl } from "../api/assets";
import type { Job as JobOut } from "../api/types";
import { useJobs, useMeta, useMix, useTracks } from "../doc/hooks";
import type { Job, Mix, Track } from "../doc/model";
import { useStudio } from "./context";
import {
  CEILING_DBTP_RANGE,
  MASTER_PRESETS,
  MIX_PRESETS,
  TARGET_LUFS_RANGE,
  jobFigures,
  jobLabel,
  jobRequestText,
  jobStatusText,
  outputAssetId,
} from "./jobFigures";
import "./jobs.css";

type Feedback = { kind: "ok" | "error"; text: string } | null;

/** POST a job request; the answer in words (started, already running, or the refusal). */
function useJobRequest(): [Feedback, boolean, (path: string, body: Record<string, unknown>, what: string) => Promise<void>] {
  const { api } = useStudio();
  const [feedback, setFeedback] = useState<Feedback>(null);
  const [busy, setBusy] = useState(false);
  const send = async (path: string, body: Record<string, unknown>, what: string) => {
    setBusy(true);
    setFeedback(null);
    try {
      const job = await api.post<JobOut>(path, body);
      setFeedback({
        kind: "ok",
        text: job.reused ? `The same ${what} is already ${job.status}; follow it below.` : `${what[0].toUpperCase()}${what.slice(1)} requested.`,
      });
    } catch (error) {
      const message = error instanceof ApiError ? error.message : (error as Error).message;
      setFeedback({ kind: "error", text: `${message.charAt(0).toUpperCase()}${message.slice(1)}` });
    } finally {
      setBusy(false);
    }
  };
  return [feedback, busy, send];
}

function FeedbackLine({ feedback }: { feedback: Feedback }) {
  if (!feedback) return null;
  return feedback.kind === "error" ? (
    <p className="error" role="alert">
      {feedback.text}
    </p>
  ) : (
    <p className="ok" role="status">
      {feedback.text}
    </p>
  );
}

export function JobsPanel() {
  const { doc, canEdit } = useStudio();
  const tracks = useTracks(doc);
  const jobs = useJobs(doc);
  const mix = useMix(doc);
  const meta = useMeta(doc);
  const trackName = (id: string) => tracks.find((t) => t.id === id)?.name ?? null;
  const main = jobs.filter((j) => j.kind !== "analysis");
  const analyses = jobs.filter((j) => j.kind === "analysis");
  // Players load for the newest result of each kind; older ones on request.
  const newestMix = main.find((j) => j.kind === "mixing" && j.status === "done")?.id;
  const newestMaster = main.find((j) => j.kind === "mastering" && j.status === "done")?.id;

  return (
    <div className="jobs-panel">
      {canEdit ? (
        <>
          <MixForm hasAudio={tracks.some((t) => t.assetId)} current={mix.preset} />
          <MasterForm hasMix={mix.renderAssetId !== null} />
          <CoachForm tracks={tracks} />
        </>
      ) : (
        <p className="muted">Viewers hear and download the results; editors start mixes, masters and coaching.</p>
      )}
      <section aria-labelledby="jobs-heading" className="jobs-list-section">
        <h2 id="jobs-heading">Jobs</h2>
        {main.length === 0 ? (
          <p className="muted">No mix, master or coaching yet.</p>
        ) : (
          <ul className="jobs-list">
            {main.map((job) => (
              <JobItem
                key={job.id}
                job={job}
                mix={mix}
                songTitle={meta.title}
                request={jobRequestText(job, trackName)}
                autoLoad={job.id === newestMix || job.id === newestMaster}
              />
            ))}
          </ul>
        )}
        {analyses.length > 0 && (
          <details className="jobs-analyses">
            <summary>
              Track analyses ({analyses.filter((j) => j.status === "done").length} of {analyses.length} done
              {analyses.some((j) => j.status === "failed") ? ", some failed" : ""})
            </summary>
            <ul className="jobs-list">
              {analyses.map((job) => (
                <JobItem key={job.id} job={job} mix={mix} songTitle={meta.title} request={jobRequestText(job, trackName)} autoLoad={false} />
              ))}
            </ul>
          </details>
        )}
      </section>
    </div>
  );
}

function MixForm({ hasAudio, current }: { hasAudio: boolean; current: string | null }) {
  const { projectId } = useStudio();
  const [preset, setPreset] = useState(current ?? "pop");
  const [feedback, busy, send] = useJobRequest();
  const description = MIX_PRESETS.find(([id]) => id === preset)?.[1];
  return (
    <form
      className="job-form"
      aria-labelledby="mix-form-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void send("/api/v1/ai/mixing", { project_id: projectId, preset }, "mix");
      }}
    >
      <h2 id="mix-form-heading">Mix</h2>
      <div className="row wrap">
        <label className="grow">
          Mix preset
          <select value={preset} onChange={(e) => setPreset(e.currentTarget.value)}>
            {MIX_PRESETS.map(([id]) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || !hasAudio}>
          Mix
        </button>
      </div>
      <p className="muted hint">{hasAudio ? description : "Upload audio to a track first."}</p>
      <FeedbackLine feedback={feedback} />
    </form>
  );
}

function MasterForm({ hasMix }: { hasMix: boolean }) {
  const { projectId } = useStudio();
  const [preset, setPreset] = useState(MASTER_PRESETS[0].id);
  const [target, setTarget] = useState(String(MASTER_PRESETS[0].targetLufs));
  const [ceiling, setCeiling] = useState(String(MASTER_PRESETS[0].ceilingDbtp));
  const [feedback, busy, send] = useJobRequest();
  const targetNum = Number(target);
  const ceilingNum = Number(ceiling);
  const targetOk = target.trim() !== "" && targetNum >= TARGET_LUFS_RANGE.min && targetNum <= TARGET_LUFS_RANGE.max;
  const ceilingOk = ceiling.trim() !== "" && ceilingNum >= CEILING_DBTP_RANGE.min && ceilingNum <= CEILING_DBTP_RANGE.max;
  return (
    <form
      className="job-form"
      aria-labelledby="master-form-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!targetOk || !ceilingOk) return;
        void send(
          "/api/v1/ai/mastering",
          { project_id: projectId, preset, target_lufs: targetNum, ceiling_dbtp: ceilingNum },
          "master",
        );
      }}
    >
      <h2 id="master-form-heading">Master</h2>
      <label>
        Mastering preset
        <select
          value={preset}
          onChange={(e) => {
            const next = MASTER_PRESETS.find((p) => p.id === e.currentTarget.value) ?? MASTER_PRESETS[0];
            setPreset(next.id);
            setTarget(String(next.targetLufs));
            setCeiling(String(next.ceilingDbtp));
          }}
        >
          {MASTER_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      <div className="row wrap">
        <NumberField
          label="Target loudness (LUFS)"
          value={target}
          onChange={setTarget}
          min={TARGET_LUFS_RANGE.min}
          max={TARGET_LUFS_RANGE.max}
          step={0.5}
          error={targetOk ? null : `Between ${TARGET_LUFS_RANGE.min} and ${TARGET_LUFS_RANGE.max} LUFS.`}
        />
        <NumberField
          label="True-peak ceiling (dBTP)"
          value={ceiling}
          onChange={setCeiling}
          min={CEILING_DBTP_RANGE.min}
          max={CEILING_DBTP_RANGE.max}
          step={0.1}
          error={ceilingOk ? null : `Between ${CEILING_DBTP_RANGE.min} and ${CEILING_DBTP_RANGE.max} dBTP.`}
        />
        <button type="submit" className="primary" disabled={busy || !hasMix || !targetOk || !ceilingOk}>
          Master
        </button>
      </div>
      {!hasMix && <p className="muted hint">Mix the project first: the master is made from the latest mix.</p>}
      <FeedbackLine feedback={feedback} />
    </form>
  );
}

function NumberField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  min: number;
  max: number;
  step: number;
  error: string | null;
}) {
  const errorId = `${props.label.replace(/\W+/g, "-")}-error`;
  return (
    <label className="number-field">
      {props.label}
      <input
        type="number"
        inputMode="decimal"
        value={props.value}
        min={props.min}
        max={props.max}
        step={props.step}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      />
      {props.error && (
        <span id={errorId} className="error">
          {props.error}
        </span>
      )}
    </label>
  );
}

function CoachForm({ tracks }: { tracks: Track[] }) {
  const { projectId } = useStudio();
  const candidates = tracks.filter((t) => t.assetId && (t.kind === "vocal" || t.kind === "audio"));
  const [trackId, setTrackId] = useState("");
  const [feedback, busy, send] = useJobRequest();
  // Vocals first as the default choice; keep the choice while it still exists.
  const fallback = (candidates.find((t) => t.kind === "vocal") ?? candidates[0])?.id ?? "";
  const selected = candidates.some((t) => t.id === trackId) ? trackId : fallback;
  return (
    <form
      className="job-form"
      aria-labelledby="coach-form-heading"
      onSubmit={(e) => {
        e.preventDefault();
        if (selected) void send("/api/v1/ai/coaching", { project_id: projectId, track_id: selected }, "coaching");
      }}
    >
      <h2 id="coach-form-heading">Vocal coaching</h2>
      <div className="row wrap">
        <label className="grow">
          Track to coach
          <select value={selected} onChange={(e) => setTrackId(e.currentTarget.value)} disabled={!candidates.length}>
            {!candidates.length && <option value="">No vocal or audio track with audio</option>}
            {candidates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.kind})
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || !selected}>
          Coach
        </button>
      </div>
      <p className="muted hint">Pitch, timing and phrasing notes appear in the Coaching tab.</p>
      <FeedbackLine feedback={feedback} />
    </form>
  );
}

function JobItem({
  job,
  mix,
  songTitle,
  request,
  autoLoad,
}: {
  job: Job;
  mix: Mix;
  songTitle: string;
  request: string;
  autoLoad: boolean;
}) {
  const label = jobLabel(job);
  const figures = jobFigures(job, mix);
  const percent = Math.round(job.progress * 100);
  const assetId = job.status === "done" && (job.kind === "mixing" || job.kind === "mastering") ? outputAssetId(job) : null;
  return (
    <li className={`job job-${job.status}`}>
      <div className="job-head">
        <strong>{label}</strong>
        {request && <span className="muted job-request">{request}</span>}
        <span className="grow" />
        <span className={`job-status status-${job.status}`}>
          <span aria-hidden="true">{STATUS_ICONS[job.status]} </span>
          {jobStatusText(job)}
        </span>
      </div>
      {(job.status === "running" || job.status === "queued") && (
        <progress max={100} value={job.status === "queued" ? undefined : percent} aria-label={`${label} progress`} />
      )}
      {job.status === "failed" && <p className="error">{job.error ?? "The job failed."}</p>}
      <FigureList figures={figures} />
      {job.kind === "coaching" && job.status === "done" && <p className="muted job-time">Notes and the pitch curve are in the Coaching tab.</p>}
      {assetId && <JobAudio job={job} assetId={assetId} songTitle={songTitle} autoLoad={autoLoad} />}
      {job.finishedAt && <p className="muted job-time">{new Date(job.finishedAt * 1000).toLocaleString()}</p>}
    </li>
  );
}

const STATUS_ICONS: Record<Job["status"], string> = { queued: "…", running: "⟳", done: "✓", failed: "✕" };

function JobAudio({ job, assetId, songTitle, autoLoad }: { job: Job; assetId: string; songTitle: string; autoLoad: boolean }) {
  const { api } = useStudio();
  const [load, setLoad] = useState(autoLoad);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const what = job.kind === "mastering" ? "master" : "mix";

  useEffect(() => {
    if (!load) return;
    let live = true;
    let made: string | null = null;
    // Renders are FLAC (audio_services/jobs/compute.py _flac_sink).
    assetObjectUrl(api, assetId, "audio/flac").then(
      (u) => {
        made = u;
        if (live) setUrl(u);
        else URL.revokeObjectURL(u);
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, assetId, load]);

  if (!load) {
    return (
      <button type="button" className="small" onClick={() => setLoad(true)}>
        Load {what} to play
      </button>
    );
  }
  if (error) return <p className="error">The {what} could not be loaded: {error}</p>;
  if (!url) return <p className="muted" role="status">Loading the {what}…</p>;
  const fileName = `${songTitle.replace(/[\\/:*?"<>|]+/g, " ").trim() || "song"} ${what}.flac`;
  return (
    <div className="job-audio">
      <audio controls preload="metadata" src={url} aria-label={`Play ${job.kind} result`} />
      <a href={url} download={fileName} className="download" onClick={stop}>
        <span aria-hidden="true">⤓ </span>
        Download {what} (FLAC)
      </a>
    </div>
  );
}

const stop = (event: React.MouseEvent) => event.stopPropagation();

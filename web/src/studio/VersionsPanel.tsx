// Named versions of the song (REST /projects/{id}/versions): name the current state,
// see what changed since a version, and restore one. A restore is a forward edit the
// server applies to the live document: every peer receives it, and the state it
// replaced is kept as a version, so a restore can itself be undone.
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { Version, VersionDetail } from "../api/types";
import { useTracks } from "../doc/hooks";
import { useStudio } from "./context";
import { describeChanges } from "./versionChanges";
import "./versions.css";

interface RestoreOut {
  version: Version;
  changes: Record<string, unknown>;
  backup_version_id: string | null;
}

interface VersionPage {
  items: Version[];
  total: number;
  limit: number;
  offset: number;
}

const PAGE = 20;

function problem(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.offline) return "You are offline. Versions live on the server: try again when you are back online.";
    if (err.status === 403) return "Only editors and owners can do that.";
    return err.message;
  }
  return "Something went wrong. Try again.";
}

const when = (iso: string): string => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

export function VersionsPanel() {
  const { api, projectId, project, me } = useStudio();
  const tracks = useTracks(useStudio().doc);
  const canWrite = project !== null && project.role !== "viewer";
  const [versions, setVersions] = useState<Version[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [saving, setSaving] = useState(false);
  const [restored, setRestored] = useState<{ name: string; lines: string[]; backup: boolean } | null>(null);
  const noteId = useId();
  const base = `/api/v1/projects/${projectId}/versions`;
  const trackName = (id: string) => tracks.find((t) => t.id === id)?.name ?? null;

  const load = useCallback(
    async (offset = 0) => {
      setLoading(true);
      try {
        const page = await api.get<VersionPage>(`${base}?limit=${PAGE}&offset=${offset}`);
        setVersions((old) => (offset === 0 ? page.items : [...old, ...page.items.filter((v) => !old.some((o) => o.id === v.id))]));
        setTotal(page.total);
        setError(null);
      } catch (err) {
        setError(problem(err));
      } finally {
        setLoading(false);
      }
    },
    [api, base],
  );

  useEffect(() => {
    void load();
  }, [load]);

  async function save(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed || !canWrite) return;
    setSaving(true);
    setStatus(null);
    try {
      const version = await api.post<Version>(base, { name: trimmed.slice(0, 200) });
      setName("");
      setStatus(`Saved version “${version.name}”.`);
      setError(null);
      await load();
    } catch (err) {
      setError(problem(err));
    } finally {
      setSaving(false);
    }
  }

  async function restore(version: Version) {
    setStatus(null);
    setRestored(null);
    try {
      const out = await api.post<RestoreOut>(`${base}/${version.id}/restore`);
      setRestored({ name: out.version.name, lines: describeChanges(out.changes, trackName), backup: out.backup_version_id !== null });
      setError(null);
      await load();
    } catch (err) {
      setError(problem(err));
    }
  }

  return (
    <section className="versions" aria-label="Versions">
      <form className="version-form" onSubmit={save} aria-describedby={canWrite ? undefined : noteId}>
        <label>
          Version name
          <input type="text" value={name} maxLength={200} disabled={!canWrite || saving} placeholder="e.g. Before the new bridge" onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={!canWrite || saving || !name.trim()}>
          {saving ? "Saving…" : "Save version"}
        </button>
        {!canWrite && (
          <p id={noteId} className="muted version-note">
            Viewers can look at versions; editors and owners save and restore them.
          </p>
        )}
      </form>
      <p role="status" className="version-status">
        {status ?? ""}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {restored && (
        <div className="version-restored" role="status">
          <p>
            <strong>Restored “{restored.name}”.</strong> Everyone in the project now has it.
            {restored.backup && " What it replaced was saved as a version, so you can go back."}
          </p>
          <ul aria-label="What the restore changed">
            {restored.lines.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="version-list-head">
        <h2>Saved versions {total > 0 && <span className="muted">({total})</span>}</h2>
        <button type="button" onClick={() => void load()} disabled={loading}>
          Refresh versions
        </button>
      </div>
      {loading && versions.length === 0 && <p className="muted">Loading versions…</p>}
      {!loading && versions.length === 0 && !error && <p className="muted">No versions yet. Name the current state to keep it.</p>}
      {versions.length > 0 && (
        <ul className="version-list" aria-label="Versions, newest first">
          {versions.map((v) => (
            <VersionItem key={v.id} version={v} mine={v.created_by === `user:${me.id}` || v.created_by === me.id} canWrite={canWrite} onRestore={restore} trackName={trackName} />
          ))}
        </ul>
      )}
      {versions.length < total && (
        <button type="button" onClick={() => void load(versions.length)} disabled={loading}>
          Show older versions
        </button>
      )}
    </section>
  );
}

function VersionItem({
  version,
  mine,
  canWrite,
  onRestore,
  trackName,
}: {
  version: Version;
  mine: boolean;
  canWrite: boolean;
  onRestore: (v: Version) => Promise<void>;
  trackName: (id: string) => string | null;
}) {
  const { api, projectId } = useStudio();
  const [open, setOpen] = useState(false);
  const [detail, setDetail] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const changesId = useId();

  async function showChanges() {
    const next = !open;
    setOpen(next);
    if (!next) return;
    setError(null);
    try {
      const d = await api.get<VersionDetail>(`/api/v1/projects/${projectId}/versions/${version.id}`);
      setDetail(describeChanges(d.changes, trackName));
    } catch (err) {
      setError(problem(err));
    }
  }

  async function confirm() {
    setBusy(true);
    try {
      await onRestore(version);
    } finally {
      setBusy(false);
      setConfirming(false);
      setDetail(null);
      setOpen(false);
    }
  }

  return (
    <li className="version">
      <div className="version-head">
        <strong className="version-name">{version.name}</strong>
        <span className="muted version-meta">
          <time dateTime={version.created_at}>{when(version.created_at)}</time>
          {mine ? " · by you" : version.created_by?.startsWith("apikey:") ? " · by a bot" : ""}
        </span>
      </div>
      <div className="version-actions">
        <button type="button" aria-expanded={open} aria-controls={changesId} onClick={() => void showChanges()} aria-label={`Changes since ${version.name}`}>
          Changes since
        </button>
        {canWrite && !confirming && (
          <button type="button" onClick={() => setConfirming(true)}>
            Restore {version.name}
          </button>
        )}
      </div>
      {confirming && (
        <div className="version-confirm" role="group" aria-label={`Restore ${version.name}?`}>
          <p>Bring the whole song back to “{version.name}” for everyone? The current state is saved as a version first.</p>
          <div className="version-actions">
            <button type="button" className="primary" disabled={busy} onClick={() => void confirm()} autoFocus>
              {busy ? "Restoring…" : "Confirm restore"}
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <div id={changesId} hidden={!open} className="version-changes">
        {error && <p className="error">{error}</p>}
        {open && !error && detail === null && <p className="muted">Comparing…</p>}
        {detail && (
          <ul aria-label={`Changes since ${version.name}`}>
            {detail.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        )}
      </div>
    </li>
  );
}

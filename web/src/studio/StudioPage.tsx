import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import type { Project } from "../api/types";
import { ProjectConnection, type PresenceUser } from "../collab/connection";
import { Player } from "../audio/player";
import { useMeta } from "../doc/hooks";
import { AuthForm } from "../pages/AuthPage";
import { MembersPanel } from "../pages/MembersPanel";
import { navigate } from "../router";
import { useServices, useSession } from "../services";
import { Arrangement } from "./Arrangement";
import { useBenchHook } from "./benchHook";
import { CommentsPanel } from "./CommentsPanel";
import { CoachingPanel } from "./CoachingPanel";
import { StudioContext, useStudio, type Studio } from "./context";
import { JobsPanel } from "./JobsPanel";
import { MidiTracks } from "./MidiTracks";
import { PresenceList } from "./PresenceList";
import { colorFor } from "./presenceColors";
import { SongSettings } from "./SongSettings";
import { SyncIndicator, useSyncState } from "./SyncIndicator";
import { Transport } from "./Transport";
import { UploadButton } from "./UploadButton";
import { VersionsPanel } from "./VersionsPanel";

// CodeMirror is the biggest dependency: loaded when the lyrics tab opens.
const LyricsEditor = lazy(() => import("./LyricsEditor"));

type Tab = "lyrics" | "comments" | "mix" | "coaching" | "versions" | "members";
const TABS: Array<[Tab, string]> = [
  ["lyrics", "Lyrics"],
  ["comments", "Comments"],
  ["mix", "Mix & master"],
  ["coaching", "Coaching"],
  ["versions", "Versions"],
  ["members", "Members"],
];

const projectKey = (id: string) => `jacameno.project.${id}`;

function cachedProject(id: string): Project | null {
  try {
    return JSON.parse(window.localStorage.getItem(projectKey(id)) ?? "null") as Project | null;
  } catch {
    return null;
  }
}

export default function StudioPage({ projectId }: { projectId: string }) {
  const { api } = useServices();
  const session = useSession();
  const [project, setProject] = useState<Project | null>(() => cachedProject(projectId));
  const [tab, setTab] = useState<Tab>("lyrics");

  const me = useMemo<PresenceUser>(() => {
    const user = session!.user;
    return { id: user.id, name: user.display_name || user.email, kind: "person", ...colorFor(user.id) };
    // The presence identity is fixed for the page's life.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const connection = useMemo(() => new ProjectConnection(projectId, api, me), [projectId, api, me]);
  const player = useMemo(() => new Player(connection.doc, api, connection.awareness), [connection, api]);
  useBenchHook(connection.doc);

  useEffect(() => {
    void connection.start();
    return () => {
      player.destroy();
      connection.destroy();
    };
  }, [connection, player]);

  useEffect(() => {
    // The role decides what the page lets you do; cached so the studio opens offline.
    api.get<Project>(`/api/v1/projects/${projectId}`).then(
      (p) => {
        setProject(p);
        window.localStorage.setItem(projectKey(projectId), JSON.stringify(p));
      },
      () => undefined,
    );
  }, [api, projectId]);

  const sync = useSyncState(connection);
  const canEdit = (project?.role ?? "viewer") !== "viewer" && !sync.readOnly;
  const studio: Studio = {
    projectId,
    project,
    connection,
    doc: connection.doc,
    awareness: connection.awareness,
    api,
    player,
    me,
    canEdit,
  };

  return (
    <StudioContext.Provider value={studio}>
      <StudioLayout tab={tab} setTab={setTab} />
    </StudioContext.Provider>
  );
}

function StudioLayout({ tab, setTab }: { tab: Tab; setTab: (tab: Tab) => void }) {
  const { connection, doc, project, canEdit, projectId } = useStudio();
  const meta = useMeta(doc);
  const sync = useSyncState(connection);

  useEffect(() => {
    document.title = `${meta.title} · JACAMENO`;
  }, [meta.title]);

  return (
    <div className="studio">
      <header className="topbar">
        <a
          href="/"
          className="back"
          onClick={(e) => {
            e.preventDefault();
            navigate("/");
          }}
        >
          <span aria-hidden="true">←</span> Projects
        </a>
        <h1 className="title">{meta.title}</h1>
        <SongSettings />
        <span className="grow" />
        <PresenceList />
        <SyncIndicator connection={connection} />
      </header>
      {!canEdit && project && (
        <p className="notice" role="note">
          You are a viewer: you can see and hear everything, but not change it.
        </p>
      )}
      {sync.problem && !sync.needsSignIn && (
        <p className="notice warn" role="alert">
          {sync.problem}
        </p>
      )}
      {sync.needsSignIn && (
        <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="signin-again">
          <section className="card">
            <h2 id="signin-again">Sign in again</h2>
            <p>{sync.problem}</p>
            <AuthForm mode="login" autoFocus onDone={() => void connection.resume()} />
          </section>
        </div>
      )}
      <div className="toolbar">
        <Transport />
        {canEdit && <UploadButton />}
        <MidiTracks />
      </div>
      {/* The lyrics tab widens the side panel on wide windows (lyricsPanel.css). */}
      <main className={`workspace${tab === "lyrics" ? " workspace-lyrics" : ""}`}>
        <Arrangement />
        <aside className="side">
          <div role="tablist" aria-label="Studio panels" className="tabs">
            {TABS.map(([id, label]) => (
              <button
                key={id}
                role="tab"
                id={`tab-${id}`}
                aria-selected={tab === id}
                aria-controls={`panel-${id}`}
                tabIndex={tab === id ? 0 : -1}
                onClick={() => setTab(id)}
                onKeyDown={(e) => {
                  const index = TABS.findIndex(([t]) => t === id);
                  if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
                    const next = TABS[(index + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length][0];
                    setTab(next);
                    document.getElementById(`tab-${next}`)?.focus();
                  }
                }}
              >
                {label}
              </button>
            ))}
          </div>
          <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
            {tab === "lyrics" && (
              <Suspense fallback={<p role="status">Loading the lyrics editor…</p>}>
                <LyricsEditor />
              </Suspense>
            )}
            {tab === "comments" && <CommentsPanel />}
            {tab === "mix" && <JobsPanel />}
            {tab === "coaching" && <CoachingPanel />}
            {tab === "versions" && <VersionsPanel />}
            {tab === "members" && project && <MembersPanel projectId={projectId} role={project.role} />}
          </section>
        </aside>
      </main>
    </div>
  );
}

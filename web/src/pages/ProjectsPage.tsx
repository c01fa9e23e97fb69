import { useEffect, useState, type FormEvent } from "react";
import type { Page, PendingInvite, Project } from "../api/types";
import { navigate } from "../router";
import { useServices, useSession } from "../services";
import { describeError } from "./AuthPage";

export const KEYS = [
  "C major", "G major", "D major", "A major", "E major", "B major", "F# major", "Db major", "Ab major", "Eb major", "Bb major", "F major",
  "A minor", "E minor", "B minor", "F# minor", "C# minor", "G# minor", "D# minor", "Bb minor", "F minor", "C minor", "G minor", "D minor",
];
export const TIME_SIGNATURES = ["4/4", "3/4", "6/8", "2/4", "5/4", "7/8", "12/8"];

function NewProjectForm({ onCreated }: { onCreated: (project: Project) => void }) {
  const { api } = useServices();
  const [name, setName] = useState("");
  const [bpm, setBpm] = useState("120");
  const [key, setKey] = useState("");
  const [timeSignature, setTimeSignature] = useState("4/4");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const project = await api.post<Project>("/api/v1/projects", {
        name,
        bpm: Number(bpm),
        key: key || null,
        time_signature: timeSignature,
      });
      onCreated(project);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card new-project" onSubmit={submit} aria-labelledby="new-project-title">
      <h2 id="new-project-title">New project</h2>
      <div className="row wrap">
        <label className="grow">
          Name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Tempo (BPM)
          <input type="number" required min={20} max={300} step="0.1" value={bpm} onChange={(e) => setBpm(e.target.value)} />
        </label>
        <label>
          Key
          <select value={key} onChange={(e) => setKey(e.target.value)}>
            <option value="">Not set</option>
            {KEYS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Time signature
          <select value={timeSignature} onChange={(e) => setTimeSignature(e.target.value)}>
            {TIME_SIGNATURES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit" className="primary" disabled={busy}>
        Create project
      </button>
    </form>
  );
}

function PendingInvites() {
  const { api } = useServices();
  const [invites, setInvites] = useState<PendingInvite[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ items: PendingInvite[] }>("/api/v1/me/invites").then((r) => setInvites(r.items), () => undefined);
  }, [api]);
  if (!invites.length) return null;
  return (
    <section className="card" aria-labelledby="invites-title">
      <h2 id="invites-title">Invitations</h2>
      {error && <p role="alert" className="error">{error}</p>}
      <ul className="list">
        {invites.map((invite) => (
          <li key={invite.id} className="row">
            <span className="grow">
              <strong>{invite.project_name}</strong> as {invite.role}
              {invite.invited_by ? ` (from ${invite.invited_by})` : ""}
            </span>
            <button
              onClick={async () => {
                try {
                  const project = await api.post<Project>(`/api/v1/me/invites/${invite.id}/accept`);
                  navigate(`/projects/${project.id}`);
                } catch (err) {
                  setError(describeError(err));
                }
              }}
            >
              Join {invite.project_name}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ProjectsPage() {
  const { api } = useServices();
  const session = useSession();
  const [query, setQuery] = useState("");
  const [page, setPage] = useState<Page<Project> | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      const q = query.trim() ? `&q=${encodeURIComponent(query.trim())}` : "";
      api
        .get<Page<Project>>(`/api/v1/projects?limit=100${q}`, controller.signal)
        .then((result) => {
          setPage(result);
          setError(null);
        })
        .catch((err) => {
          if ((err as Error).name !== "AbortError") setError(describeError(err));
        });
    }, 150);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [api, query]);

  return (
    <main className="page">
      <header className="topbar">
        <h1 className="brand">JACAMENO</h1>
        <span className="grow" />
        <span className="muted">{session?.user.display_name || session?.user.email}</span>
        <a
          href="/account"
          onClick={(e) => {
            e.preventDefault();
            navigate("/account");
          }}
        >
          Your account
        </a>
        <a
          href="/account/memory"
          onClick={(e) => {
            e.preventDefault();
            navigate("/account/memory");
          }}
        >
          Your AI memory
        </a>
        <button onClick={() => void api.signOut()}>Sign out</button>
      </header>
      <PendingInvites />
      <NewProjectForm onCreated={(project) => navigate(`/projects/${project.id}`)} />
      <section className="card" aria-labelledby="projects-title">
        <div className="row wrap">
          <h2 id="projects-title" className="grow">
            Your projects
          </h2>
          <label className="search">
            Search projects
            <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
          </label>
        </div>
        {error && <p role="alert" className="error">{error}</p>}
        {page && page.items.length === 0 && <p className="muted">{query ? "No project matches." : "No projects yet: create one above."}</p>}
        <ul className="list projects">
          {page?.items.map((project) => (
            <li key={project.id}>
              <a
                href={`/projects/${project.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`/projects/${project.id}`);
                }}
              >
                {project.name}
              </a>
              <span className="badge">{project.role}</span>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

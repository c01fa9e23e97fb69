// "Your AI memory": what the server keeps of the signed-in writer to personalise
// suggestions (lines written, accepted, edited or rejected; presets chosen). Each
// item can be forgotten, or everything at once after a confirmation.
import { useEffect, useRef, useState } from "react";
import type { MemoryItem, MemoryOut, Page, Project } from "../api/types";
import { navigate } from "../router";
import { useServices } from "../services";
import { describeError } from "./AuthPage";
import { describeMemoryItem, groupMemory, readMemory, shortText } from "./memoryItems";
import "./memory.css";

export function MemoryPage() {
  const { api } = useServices();
  const [memory, setMemory] = useState<MemoryOut | null>(null);
  const [projects, setProjects] = useState<Project[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = "Your AI memory · JACAMENO";
    api.get<unknown>("/api/v1/me/memory").then(
      (raw) => setMemory(readMemory(raw)),
      (err) => setError(describeError(err)),
    );
    // Only for the projects' names; the memory reads without them.
    api.get<Page<Project>>("/api/v1/projects?limit=100").then(
      (page) => setProjects(page.items),
      () => undefined,
    );
  }, [api]);

  const projectName = (id: string) => projects.find((p) => p.id === id)?.name ?? null;

  async function forget(item: MemoryItem) {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.delete(`/api/v1/me/memory/${encodeURIComponent(item.id)}`);
      setMemory((m) => (m ? { ...m, items: m.items.filter((i) => i.id !== item.id) } : m));
      setMessage(`Forgotten: “${shortText(item.text)}”.`);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  async function forgetEverything() {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.delete("/api/v1/me/memory");
      setMemory((m) => (m ? { ...m, items: [] } : m));
      setConfirming(false);
      setMessage("Everything is forgotten.");
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const groups = memory ? groupMemory(memory.items) : [];
  return (
    <main className="page memory-page">
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
        <h1 className="grow">Your AI memory</h1>
      </header>
      <p className="muted">
        To suggest lines in your own style and presets you are likely to want, the studio remembers lyrics you wrote, accepted,
        edited or rejected, and the mix and master presets you chose. Only you see this list; forget anything at any time.
      </p>
      {memory && (
        <p className="muted memory-model">
          Kept as {memory.embedding_model.dimensions}-dimensional vectors by {memory.embedding_model.name}
          {memory.style_version ? ` (style version ${memory.style_version})` : ""}.
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p role="status" className="memory-message">
        {message}
      </p>
      {!memory && !error && (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
      {memory && memory.items.length === 0 && <p className="muted">Nothing kept: the AI knows nothing of your style yet.</p>}
      {groups.map((group) => (
        <section key={group.kind} className="card" aria-labelledby={`memory-${group.kind}`}>
          <h2 id={`memory-${group.kind}`}>
            {group.title} ({group.items.length})
          </h2>
          <ul className="list memory-items" aria-labelledby={`memory-${group.kind}`}>
            {group.items.map((item) => (
              <li key={item.id} className="memory-item">
                <div className="memory-item-body">
                  <p className="memory-text">{item.text}</p>
                  <p className="muted memory-details">{describeMemoryItem(item, projectName)}</p>
                </div>
                <button type="button" className="danger" disabled={busy} aria-label={`Forget “${shortText(item.text)}”`} onClick={() => void forget(item)}>
                  Forget
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
      {memory && memory.items.length > 0 && (
        <ForgetEverything confirming={confirming} busy={busy} onAsk={() => setConfirming(true)} onCancel={() => setConfirming(false)} onConfirm={() => void forgetEverything()} />
      )}
    </main>
  );
}

function ForgetEverything(props: { confirming: boolean; busy: boolean; onAsk: () => void; onCancel: () => void; onConfirm: () => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  const ask = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  useEffect(() => {
    // Focus follows the question: onto Cancel (the safe answer), then back.
    if (props.confirming) cancel.current?.focus();
    else if (wasConfirming.current) ask.current?.focus();
    wasConfirming.current = props.confirming;
  }, [props.confirming]);

  if (!props.confirming) {
    return (
      <div>
        <button ref={ask} type="button" className="danger" disabled={props.busy} onClick={props.onAsk}>
          Forget everything
        </button>
      </div>
    );
  }
  return (
    <section
      className="card memory-confirm"
      role="alertdialog"
      aria-labelledby="memory-confirm-title"
      aria-describedby="memory-confirm-text"
      onKeyDown={(e) => {
        if (e.key === "Escape") props.onCancel();
      }}
    >
      <h2 id="memory-confirm-title">Forget everything?</h2>
      <p id="memory-confirm-text">Every line and preset the AI keeps of you is deleted. This cannot be undone.</p>
      <div className="row">
        <button type="button" className="danger" disabled={props.busy} onClick={props.onConfirm}>
          Yes, forget everything
        </button>
        <button ref={cancel} type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

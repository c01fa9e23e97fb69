// "Where you are signed in" (every device with a session; End signs one out, its open
// collaboration sockets close) and "API keys" you made, where each was last used.
import { useCallback, useEffect, useState } from "react";
import type { AuthProvider, KeyUseOut, SessionOut, SessionsOut } from "../../api/types";
import { useServices } from "../../services";
import { describeError } from "../AuthPage";
import { describeKeyUse, deviceName, sessionDetails, sortSessions } from "./accountItems";
import { Feedback } from "./PasswordFields";

export function SessionsSection({ providers, reload }: { providers: AuthProvider[]; /** Changes when the list must be asked again (a password change ends the others). */ reload: number }) {
  const { api } = useServices();
  const [list, setList] = useState<SessionsOut | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [keyMessage, setKeyMessage] = useState<string | null>(null);
  const [keyError, setKeyError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api.signedInSessions().then(setList, (err) => setError(describeError(err)));
  }, [api]);
  useEffect(() => load(), [load, reload]);

  async function end(session: SessionOut) {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      if (session.current) {
        await api.signOut();
        return;
      }
      await api.endSession(session.id);
      setList((l) => l && { ...l, sessions: l.sessions.filter((s) => s.id !== session.id) });
      setMessage(`Signed out ${deviceName(session.device)}.`);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(key: KeyUseOut) {
    setBusy(true);
    setKeyError(null);
    setKeyMessage(null);
    try {
      await api.revokeApiKey(key.id);
      setList((l) => l && { ...l, api_keys: l.api_keys.filter((k) => k.id !== key.id) });
      setKeyMessage(`The key “${key.name}” is revoked: it no longer works.`);
    } catch (err) {
      setKeyError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <section className="card" aria-labelledby="account-sessions">
        <h2 id="account-sessions">Where you are signed in</h2>
        {!list && !error && <p className="muted">Loading…</p>}
        <ul className="list account-list" aria-labelledby="account-sessions">
          {list &&
            sortSessions(list.sessions).map((session) => {
              const device = deviceName(session.device);
              return (
                <li key={session.id} className="account-item" data-testid={`session-${session.id}`} aria-current={session.current || undefined}>
                  <div className="grow">
                    <strong>{device}</strong> {session.current && <span className="badge">This device</span>}
                    <p className="muted">{sessionDetails(session, providers)}</p>
                  </div>
                  {session.current ? (
                    <button type="button" disabled={busy} onClick={() => void end(session)}>
                      Sign out
                    </button>
                  ) : (
                    <button type="button" className="danger" disabled={busy} aria-label={`End session on ${device}`} onClick={() => void end(session)}>
                      End
                    </button>
                  )}
                </li>
              );
            })}
        </ul>
        <Feedback message={message} error={error} />
      </section>
      <section className="card" aria-labelledby="account-keys">
        <h2 id="account-keys">API keys</h2>
        <p className="muted">Keys you made for scripts and tools; a revoked key stops working at once.</p>
        {list && list.api_keys.length === 0 && <p className="muted">No active keys.</p>}
        <ul className="list account-list" aria-labelledby="account-keys">
          {list?.api_keys.map((key) => (
            <li key={key.id} className="account-item" data-testid={`key-${key.id}`}>
              <div className="grow">
                <strong>{key.name}</strong>
                <p className="muted">{describeKeyUse(key)}</p>
              </div>
              <button type="button" className="danger" disabled={busy} aria-label={`Revoke key ${key.name}`} onClick={() => void revoke(key)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
        <Feedback message={keyMessage} error={keyError} />
      </section>
    </>
  );
}

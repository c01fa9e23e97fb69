// "Ways to sign in": the providers linked to the account (Unlink) and the ones the
// server offers that are not (Link, through the provider; it comes back to
// /account?linked=<name> or /account?error=<message>).
import { useCallback, useEffect, useState } from "react";
import type { AuthProvider, Identity, User } from "../../api/types";
import { useServices } from "../../services";
import { describeError, goToProvider } from "../AuthPage";
import { providerLabel } from "../providers";
import { formatDate, timeAgo } from "./accountItems";
import { Feedback } from "./PasswordFields";

export function SignInMethods({
  user,
  providers,
  linked,
  linkError,
}: {
  user: User;
  providers: AuthProvider[];
  /** The provider a link just finished for (?linked=). */
  linked: string | null;
  /** Why a link failed (?error=). */
  linkError: string | null;
}) {
  const { api } = useServices();
  const [identities, setIdentities] = useState<Identity[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(linkError);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api.identities().then(setIdentities, (err) => setError(describeError(err)));
  }, [api]);
  useEffect(load, [load]);
  // The label needs the provider list, which may arrive after the page.
  const linkedLabel = linked ? providerLabel(linked, providers) : null;
  useEffect(() => {
    if (linkedLabel) setMessage(`${linkedLabel} is linked to your account: you can sign in with it.`);
  }, [linkedLabel]);

  async function unlink(identity: Identity, label: string) {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.unlinkIdentity(identity.id);
      setMessage(`${label} is unlinked.`);
      load();
    } catch (err) {
      // 409: the last way in; the server says what to do (set a password first).
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  async function link(provider: AuthProvider) {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await goToProvider(api, provider.name, "link", "/account");
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  const linkedNames = new Set(identities?.map((i) => i.provider));
  const unlinked = providers.filter((p) => !linkedNames.has(p.name));
  const labelOf = (identity: Identity) => identity.label || providerLabel(identity.provider, providers);
  const several = (identity: Identity) => (identities ?? []).filter((i) => i.provider === identity.provider).length > 1;
  return (
    <section className="card" aria-labelledby="account-methods">
      <h2 id="account-methods">Ways to sign in</h2>
      <ul className="list account-list">
        <li className="account-item">
          <div className="grow">
            <strong>Email and password</strong>
            <p className="muted">{user.has_password ? `With ${user.email} and your password.` : "No password set: set one below to sign in with your email."}</p>
          </div>
        </li>
        {identities?.map((identity) => {
          const label = labelOf(identity);
          const used = timeAgo(identity.last_used_at);
          const details = [identity.email, `linked ${formatDate(identity.created_at)}`, used && `last used ${used}`].filter(Boolean).join(" · ");
          return (
            <li key={identity.id} className="account-item" data-testid={`identity-${identity.provider}`}>
              <div className="grow">
                <strong>{label}</strong>
                <p className="muted">{details}</p>
              </div>
              <button
                type="button"
                className="danger"
                disabled={busy}
                aria-label={several(identity) && identity.email ? `Unlink ${label} (${identity.email})` : `Unlink ${label}`}
                onClick={() => void unlink(identity, label)}
              >
                Unlink
              </button>
            </li>
          );
        })}
        {identities &&
          unlinked.map((provider) => (
            <li key={provider.name} className="account-item">
              <div className="grow">
                <strong>{provider.label}</strong>
                <p className="muted">Not linked</p>
              </div>
              <button type="button" disabled={busy} aria-label={`Link ${provider.label}`} onClick={() => void link(provider)}>
                Link
              </button>
            </li>
          ))}
      </ul>
      {!identities && !error && <p className="muted">Loading…</p>}
      <Feedback message={message} error={error} />
    </section>
  );
}

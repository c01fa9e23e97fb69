// "Your account": the email address (and whether it is confirmed), the ways to sign
// in, the devices signed in and the API keys in use, and the password.
import { useEffect, useState } from "react";
import type { User } from "../../api/types";
import { navigate } from "../../router";
import { useServices, useSession } from "../../services";
import { describeError, PageLink, useProviders } from "../AuthPage";
import { PasswordSection } from "./PasswordSection";
import { Feedback } from "./PasswordFields";
import { SessionsSection } from "./SessionsSection";
import { SignInMethods } from "./SignInMethods";
import "./account.css";

function EmailSection({ user }: { user: User }) {
  const { api } = useServices();
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function resend() {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.resendVerification();
      setMessage(`A new link is on its way to ${user.email}.`);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="account-email">
      <h2 id="account-email">Email address</h2>
      <p className="row wrap">
        <strong className="account-email">{user.email}</strong>
        <span className={user.email_verified ? "badge verified" : "badge"}>{user.email_verified ? "Confirmed" : "Not confirmed"}</span>
      </p>
      {!user.email_verified && (
        <>
          <p className="muted">Open the link we emailed to this address to confirm it is yours.</p>
          <div>
            <button type="button" disabled={busy} onClick={() => void resend()}>
              Send the link again
            </button>
          </div>
        </>
      )}
      <Feedback message={message} error={error} />
    </section>
  );
}

export function AccountPage({ linked, error }: { linked: string | null; error: string | null }) {
  const { api } = useServices();
  const session = useSession();
  const providers = useProviders();
  // The stored user may predate email_verified and has_password: ask the server first.
  const [ready, setReady] = useState(false);
  const [reload, setReload] = useState(0);
  // The link's outcome, kept as it was on arrival.
  const [arrival] = useState({ linked, error });

  useEffect(() => {
    document.title = "Your account · JACAMENO";
    const controller = new AbortController();
    api
      .me(controller.signal)
      .catch(() => null)
      .finally(() => !controller.signal.aborted && setReady(true));
    // Drop ?linked= / ?error= from the address: a reload must not say it again.
    if (linked || error) navigate("/account", { replace: true });
    return () => controller.abort();
  }, [api]);

  const user = session?.user;
  return (
    <main className="page account-page">
      <header className="topbar">
        <PageLink to="/" className="back">
          <span aria-hidden="true">←</span> Projects
        </PageLink>
        <h1 className="grow">Your account</h1>
        <PageLink to="/account/memory">Your AI memory</PageLink>
      </header>
      {!user || !ready ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : (
        <>
          <EmailSection user={user} />
          <SignInMethods user={user} providers={providers} linked={arrival.linked} linkError={arrival.error} />
          <PasswordSection user={user} onChanged={() => setReload((n) => n + 1)} />
          <SessionsSection providers={providers} reload={reload} />
        </>
      )}
    </main>
  );
}

// The pages people reach signed out: from "Forgot password?", from the links the
// server emails (their token in the fragment, which never reaches a server log or a
// Referer), and back from a sign-in provider (/auth/done#handoff=…).
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { clearHash, navigate, readHashParam } from "../../router";
import { useServices, useSession } from "../../services";
import { describeError, PageLink } from "../AuthPage";
import { takeRememberedNext } from "../providers";
import { passwordProblem } from "./accountItems";
import { Feedback, NewPasswordFields } from "./PasswordFields";

/**
 * The fragment's parameter, read once; the fragment then leaves the address bar so the
 * token is not kept in history or shared with the URL.
 */
export function useHashParam(name: string): string | null {
  const [value] = useState(() => readHashParam(window.location.hash, name));
  useEffect(() => clearHash(), []);
  return value;
}

/** Run `action` once after the first render (StrictMode runs effects twice; a token is single use). */
function useOnce(action: () => void): void {
  const done = useRef(false);
  useEffect(() => {
    if (done.current) return;
    done.current = true;
    action();
  });
}

function RecoveryShell({ title, children }: { title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · JACAMENO`;
  }, [title]);
  return (
    <main className="page narrow auth">
      <h1 className="brand">JACAMENO</h1>
      <section className="card" aria-labelledby="recovery-title">
        <h2 id="recovery-title">{title}</h2>
        {children}
      </section>
    </main>
  );
}

function BackToSignIn() {
  const session = useSession();
  return <p>{session ? <PageLink to="/">Back to your projects</PageLink> : <PageLink to="/login">Back to sign in</PageLink>}</p>;
}

export function ForgotPasswordPage() {
  const { api } = useServices();
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.forgotPassword(email);
      setSentTo(email);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <RecoveryShell title="Forgot your password?">
      <p className="muted">Type the email address you sign in with: we send a link to set a new password.</p>
      <form className="stack" onSubmit={submit}>
        <label>
          Email
          <input type="email" required autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Send reset link
        </button>
      </form>
      <Feedback error={error} message={sentTo && `If an account exists, a link is on its way to ${sentTo}.`} />
      <BackToSignIn />
    </RecoveryShell>
  );
}

function MissingToken({ what }: { what: string }) {
  return (
    <p role="alert" className="error">
      This {what} link is incomplete. Open the link from the email again, or copy all of it into the address bar.
    </p>
  );
}

export function ResetPasswordPage() {
  const { api } = useServices();
  const token = useHashParam("token");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = passwordProblem(password, again);
    setError(problem);
    if (problem || !token) return;
    setBusy(true);
    try {
      await api.resetPassword(token, password);
      navigate("/", { replace: true });
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <RecoveryShell title="Set a new password">
      {!token ? (
        <MissingToken what="password reset" />
      ) : (
        <form className="stack" onSubmit={submit}>
          <p className="muted">Every other device signed in to your account is signed out.</p>
          <NewPasswordFields password={password} again={again} onPassword={setPassword} onAgain={setAgain} autoFocus />
          <Feedback error={error} message={null} />
          <button type="submit" className="primary" disabled={busy}>
            Set new password
          </button>
        </form>
      )}
      <p>
        <PageLink to="/forgot-password">Ask for a new link</PageLink>
      </p>
    </RecoveryShell>
  );
}

type Outcome = { state: "working" } | { state: "done"; message: string } | { state: "failed"; error: string };

/** Spend the fragment's code at once (`spend`), showing progress and then the outcome. */
function useSpendOnArrival(param: string, spend: (code: string) => Promise<string | null>): Outcome | null {
  const code = useHashParam(param);
  const [outcome, setOutcome] = useState<Outcome | null>(code ? { state: "working" } : null);
  useOnce(() => {
    if (!code) return;
    spend(code).then(
      (message) => message !== null && setOutcome({ state: "done", message }),
      (err: unknown) => setOutcome({ state: "failed", error: describeError(err) }),
    );
  });
  return outcome;
}

function OutcomeView({ outcome, working, what }: { outcome: Outcome | null; working: string; what: string }) {
  if (!outcome) return <MissingToken what={what} />;
  return (
    <Feedback
      error={outcome.state === "failed" ? outcome.error : null}
      message={outcome.state === "working" ? working : outcome.state === "done" ? outcome.message : null}
    />
  );
}

export function VerifyEmailPage() {
  const { api } = useServices();
  const session = useSession();
  const outcome = useSpendOnArrival("token", async (token) => {
    const user = await api.verifyEmail(token);
    return `Your email address ${user.email} is confirmed.`;
  });
  return (
    <RecoveryShell title="Confirm your email address">
      <OutcomeView outcome={outcome} working="Confirming your email address…" what="confirmation" />
      {outcome?.state === "done" && (
        <button type="button" className="primary" onClick={() => navigate("/", { replace: true })}>
          Continue
        </button>
      )}
      {outcome?.state !== "done" && session && (
        <p>
          <PageLink to="/account">Send a new link from your account</PageLink>
        </p>
      )}
      {outcome?.state !== "done" && !session && <BackToSignIn />}
    </RecoveryShell>
  );
}

export function ConfirmLinkPage() {
  const { api } = useServices();
  const outcome = useSpendOnArrival("token", async (token) => {
    await api.confirmLink(token);
    navigate("/", { replace: true });
    return null;
  });
  return (
    <RecoveryShell title="Link your sign-in">
      <OutcomeView outcome={outcome} working="Linking and signing you in…" what="confirmation" />
      {outcome?.state !== "working" && <BackToSignIn />}
    </RecoveryShell>
  );
}

export function AuthDonePage() {
  const { api } = useServices();
  const outcome = useSpendOnArrival("handoff", async (handoff) => {
    await api.exchangeHandoff(handoff);
    navigate(takeRememberedNext(), { replace: true });
    return null;
  });
  return (
    <RecoveryShell title="Signing in">
      <OutcomeView outcome={outcome} working="Signing you in…" what="sign-in" />
      {outcome?.state !== "working" && <BackToSignIn />}
    </RecoveryShell>
  );
}

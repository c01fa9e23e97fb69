import { useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, type ApiClient } from "../api/client";
import type { AuthProvider } from "../api/types";
import { navigate, safeNext, type AuthNotice } from "../router";
import { useServices } from "../services";
import { providerLabel, rememberNext } from "./providers";

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Try again.";
}

/** An in-app link: a real href (new tab, copy) that navigates without a reload. */
export function PageLink({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** Sign in or sign up; also used as the in-studio "sign in again" form (onDone). */
export function AuthForm({
  mode,
  onDone,
  autoFocus = false,
}: {
  mode: "login" | "signup";
  onDone: () => void;
  /** Focus the email field at once (the in-studio "Sign in again" dialog). */
  autoFocus?: boolean;
}) {
  const { api } = useServices();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "login") await api.signIn(email, password);
      else await api.signUp(email, password, name);
      onDone();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="stack" aria-describedby={error ? `${id}-error` : undefined}>
      {mode === "signup" && (
        <label>
          Your name
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} />
        </label>
      )}
      <label>
        Email
        <input
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoComplete="email"
          autoFocus={autoFocus}
        />
      </label>
      <label>
        Password
        <input
          type="password"
          required
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete={mode === "login" ? "current-password" : "new-password"}
        />
      </label>
      {error && (
        <p id={`${id}-error`} role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {mode === "login" ? "Sign in" : "Create account"}
      </button>
    </form>
  );
}

/** The server's sign-in providers; empty while loading and when the call fails. */
export function useProviders(): AuthProvider[] {
  const { api } = useServices();
  const [providers, setProviders] = useState<AuthProvider[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    api.providers(controller.signal).then(setProviders, () => setProviders([]));
    return () => controller.abort();
  }, [api]);
  return providers;
}

/**
 * Send the browser to the provider. Signing in remembers `next` in this tab for
 * /auth/done; linking ("link", signed in) comes back to /account.
 */
export async function goToProvider(
  api: ApiClient,
  provider: string,
  mode: "signin" | "link",
  next: string | null,
  leave: (url: string) => void = (url) => window.location.assign(url),
): Promise<void> {
  const target = next ? safeNext(next) : null;
  if (mode === "signin") rememberNext(target);
  leave(await api.startOAuth(provider, mode, target));
}

/** "Continue with Google" and the like; nothing when the server offers none. */
function ProviderButtons({ providers, next }: { providers: AuthProvider[]; next: string | null }) {
  const { api } = useServices();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (providers.length === 0) return null;

  async function start(provider: AuthProvider) {
    setBusy(provider.name);
    setError(null);
    try {
      await goToProvider(api, provider.name, "signin", next);
      // The page is leaving for the provider: the buttons stay disabled.
    } catch (err) {
      setError(describeError(err));
      setBusy(null);
    }
  }

  return (
    <div className="stack">
      {providers.map((provider) => (
        <button key={provider.name} type="button" className="provider" disabled={busy !== null} onClick={() => void start(provider)}>
          Continue with {provider.label}
        </button>
      ))}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="divider" aria-hidden="true">
        or
      </p>
    </div>
  );
}

/** What the server's redirect says: a link was emailed, or the provider sign-in failed. */
function ArrivalMessage({ arrival, providers }: { arrival: AuthNotice; providers: AuthProvider[] }) {
  return (
    <>
      {arrival.notice === "check-email" && (
        <p role="status" className="notice">
          We emailed a link to confirm it is you; open it to link {providerLabel(arrival.provider ?? "", providers)} to your account.
        </p>
      )}
      {arrival.error && (
        <p role="alert" className="error">
          {arrival.error}
        </p>
      )}
    </>
  );
}

const NO_ARRIVAL: AuthNotice = { notice: null, provider: null, error: null };

export function AuthPage({ mode, next, arrival = NO_ARRIVAL }: { mode: "login" | "signup"; next: string | null; arrival?: AuthNotice }) {
  const providers = useProviders();
  const other = mode === "login" ? "signup" : "login";
  const query = next ? `?next=${encodeURIComponent(next)}` : "";
  return (
    <main className="page narrow auth">
      <h1 className="brand">JACAMENO</h1>
      <p className="tagline">Make a song together, online or offline.</p>
      <section className="card" aria-labelledby="auth-title">
        <h2 id="auth-title">{mode === "login" ? "Sign in" : "Create your account"}</h2>
        <ArrivalMessage arrival={arrival} providers={providers} />
        <ProviderButtons providers={providers} next={next} />
        <AuthForm mode={mode} onDone={() => navigate(safeNext(next), { replace: true })} />
        <p className="row wrap auth-links">
          <span className="grow">
            {mode === "login" ? "New here? " : "Have an account? "}
            <PageLink to={`/${other}${query}`}>{mode === "login" ? "Create an account" : "Sign in"}</PageLink>
          </span>
          <PageLink to="/forgot-password">Forgot password?</PageLink>
        </p>
      </section>
    </main>
  );
}

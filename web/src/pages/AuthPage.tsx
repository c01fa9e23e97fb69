import { useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { navigate, safeNext } from "../router";
import { useServices } from "../services";

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Try again.";
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

export function AuthPage({ mode, next }: { mode: "login" | "signup"; next: string | null }) {
  const other = mode === "login" ? "signup" : "login";
  const query = next ? `?next=${encodeURIComponent(next)}` : "";
  return (
    <main className="page narrow auth">
      <h1 className="brand">JACAMENO</h1>
      <p className="tagline">Make a song together, online or offline.</p>
      <section className="card" aria-labelledby="auth-title">
        <h2 id="auth-title">{mode === "login" ? "Sign in" : "Create your account"}</h2>
        <AuthForm mode={mode} onDone={() => navigate(safeNext(next), { replace: true })} />
        <p>
          {mode === "login" ? "New here? " : "Have an account? "}
          <a
            href={`/${other}${query}`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/${other}${query}`);
            }}
          >
            {mode === "login" ? "Create an account" : "Sign in"}
          </a>
        </p>
      </section>
    </main>
  );
}

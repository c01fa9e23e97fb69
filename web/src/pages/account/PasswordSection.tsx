// Change the password (the current one first), or set one on an account made by a
// provider sign-in. Every other session ends; this one gets new tokens.
import { useState, type FormEvent } from "react";
import type { User } from "../../api/types";
import { useServices } from "../../services";
import { describeError } from "../AuthPage";
import { passwordProblem } from "./accountItems";
import { Feedback, NewPasswordFields } from "./PasswordFields";

export function PasswordSection({ user, onChanged }: { user: User; onChanged: () => void }) {
  const { api } = useServices();
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const hasPassword = user.has_password;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    const problem = passwordProblem(password, again);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await api.changePassword(hasPassword ? current : null, password);
      setCurrent("");
      setPassword("");
      setAgain("");
      setMessage(
        hasPassword
          ? "Your password is changed. Every other device is signed out."
          : "Your password is set: you can also sign in with your email and this password. Every other device is signed out.",
      );
      onChanged();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="account-password">
      <h2 id="account-password">{hasPassword ? "Change your password" : "Set a password"}</h2>
      {!hasPassword && <p className="muted">You sign in through a provider. With a password you can also sign in with {user.email}.</p>}
      <form className="stack" onSubmit={submit}>
        {hasPassword && (
          <label>
            Current password
            <input type="password" required autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
          </label>
        )}
        <NewPasswordFields password={password} again={again} onPassword={setPassword} onAgain={setAgain} />
        <Feedback message={message} error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            {hasPassword ? "Change password" : "Set password"}
          </button>
        </div>
      </form>
    </section>
  );
}

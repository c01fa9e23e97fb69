// The new password typed twice (account page and /reset-password), and the two
// messages every account form shows: what happened (status) and what went wrong (alert).
import { PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS } from "./accountItems";

export function NewPasswordFields(props: {
  password: string;
  again: string;
  onPassword: (value: string) => void;
  onAgain: (value: string) => void;
  autoFocus?: boolean;
}) {
  return (
    <>
      <label>
        New password
        <input
          type="password"
          required
          minLength={PASSWORD_MIN_CHARS}
          maxLength={PASSWORD_MAX_CHARS}
          autoComplete="new-password"
          autoFocus={props.autoFocus}
          value={props.password}
          onChange={(e) => props.onPassword(e.target.value)}
        />
      </label>
      <label>
        Repeat the password
        <input
          type="password"
          required
          minLength={PASSWORD_MIN_CHARS}
          maxLength={PASSWORD_MAX_CHARS}
          autoComplete="new-password"
          value={props.again}
          onChange={(e) => props.onAgain(e.target.value)}
        />
      </label>
    </>
  );
}

/** The status region is always there so screen readers announce what appears in it. */
export function Feedback({ message, error }: { message: string | null; error: string | null }) {
  return (
    <>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p role="status" className="account-message">
        {message}
      </p>
    </>
  );
}

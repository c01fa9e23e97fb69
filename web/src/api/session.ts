// The signed-in session, kept in localStorage so the studio opens offline and a
// reload keeps the user signed in. The refresh token rotates on every use.
import type { AuthOut, User } from "./types";

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
}

const KEY = "jacameno.session";

type Listener = (session: Session | null) => void;

/** Holds the session and tells subscribers when it changes (also across tabs). */
export class SessionStore {
  private current: Session | null;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly storage: Storage = window.localStorage) {
    this.current = SessionStore.parse(storage.getItem(KEY));
    if (typeof window !== "undefined") {
      window.addEventListener("storage", (event) => {
        if (event.key === KEY) {
          this.current = SessionStore.parse(event.newValue);
          this.emit();
        }
      });
    }
  }

  get(): Session | null {
    return this.current;
  }

  setFromAuth(auth: AuthOut, now: number = Date.now()): Session {
    const session: Session = {
      user: auth.user,
      accessToken: auth.access_token,
      refreshToken: auth.refresh_token,
      expiresAt: now + auth.expires_in * 1000,
    };
    this.current = session;
    this.storage.setItem(KEY, JSON.stringify(session));
    this.emit();
    return session;
  }

  /** Keep the tokens, with the user as the server now has them (same user only). */
  updateUser(user: User): void {
    if (!this.current || this.current.user.id !== user.id) return;
    this.current = { ...this.current, user };
    this.storage.setItem(KEY, JSON.stringify(this.current));
    this.emit();
  }

  clear(): void {
    this.current = null;
    this.storage.removeItem(KEY);
    this.emit();
  }

  /** Re-read storage: another tab may have rotated the refresh token meanwhile. */
  reload(): Session | null {
    this.current = SessionStore.parse(this.storage.getItem(KEY));
    return this.current;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.current);
  }

  static parse(raw: string | null): Session | null {
    if (!raw) return null;
    try {
      const value = JSON.parse(raw) as Session;
      if (typeof value?.accessToken === "string" && typeof value?.refreshToken === "string" && value.user) {
        return value;
      }
    } catch {
      // A damaged entry is the same as no session.
    }
    return null;
  }
}

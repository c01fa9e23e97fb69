// The REST client: bearer token, silent refresh (one at a time, shared by every
// caller and every tab), and the API's error envelope as ApiError.
import type { SessionStore, Session } from "./session";
import type { AuthOut, AuthProvider, Identity, OAuthMode, SessionsOut, User } from "./types";

/** An error the user can act on: `status` 0 means the network is unreachable. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get offline(): boolean {
    return this.status === 0;
  }
}

/** Refresh this long before the access token expires (ms). */
const REFRESH_MARGIN_MS = 30_000;

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  signal?: AbortSignal;
  /** Skip the bearer token (sign-in, sign-up). */
  anonymous?: boolean;
  /** Send and keep cookies (the OAuth start binds the flow to this browser with one). */
  credentials?: RequestCredentials;
}

export class ApiClient {
  private refreshing: Promise<Session | null> | null = null;

  constructor(
    readonly sessions: SessionStore,
    private readonly base: string = "",
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let token = options.anonymous ? null : await this.freshToken();
    let response = await this.send(method, path, options, token);
    if (response.status === 401 && !options.anonymous && this.sessions.get()) {
      const renewed = await this.refresh();
      token = renewed?.accessToken ?? null;
      if (token) response = await this.send(method, path, options, token);
    }
    return ApiClient.read<T>(response);
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, { signal });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, { body: body ?? {} });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  signIn(email: string, password: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/login", { email, password });
  }

  signUp(email: string, password: string, displayName: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/signup", { email, password, display_name: displayName || null });
  }

  /** POST anonymously for an AuthOut and keep it as the session. */
  private async authenticate(path: string, body: unknown): Promise<Session> {
    const auth = await this.request<AuthOut>("POST", path, { body, anonymous: true });
    return this.sessions.setFromAuth(auth);
  }

  /** The providers offered for "Continue with …"; none when none is configured. */
  async providers(signal?: AbortSignal): Promise<AuthProvider[]> {
    const out = await this.request<{ providers: AuthProvider[] }>("GET", "/api/v1/auth/providers", { signal, anonymous: true });
    return Array.isArray(out?.providers) ? out.providers : [];
  }

  /**
   * Start a provider's sign-in (or linking, which needs the session) and answer the
   * URL to send the browser to. The answer sets a cookie tying the flow to this
   * browser, so it is asked with same-origin credentials.
   */
  async startOAuth(provider: string, mode: OAuthMode, next: string | null): Promise<string> {
    const out = await this.request<{ authorize_url: string }>("POST", `/api/v1/auth/oauth/${encodeURIComponent(provider)}/start`, {
      body: { mode, next },
      anonymous: mode === "signin",
      credentials: "same-origin",
    });
    return out.authorize_url;
  }

  /** Trade the one-time code from /auth/done#handoff=… for a session. */
  exchangeHandoff(handoff: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/oauth/handoff", { handoff });
  }

  /** Confirm the address with the emailed token; the stored user follows when it is the same. */
  async verifyEmail(token: string): Promise<User> {
    const out = await this.request<{ user: User }>("POST", "/api/v1/auth/email/verify", { body: { token }, anonymous: true });
    this.sessions.updateUser(out.user);
    return out.user;
  }

  /** Link the provider named in the emailed token and sign in. */
  confirmLink(token: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/email/link", { token });
  }

  /** Email the confirmation link again (202). */
  resendVerification(): Promise<{ sent: boolean }> {
    return this.request("POST", "/api/v1/me/email/verification");
  }

  /** Always answers the same, whether or not the address has an account. */
  forgotPassword(email: string): Promise<{ sent: boolean }> {
    return this.request("POST", "/api/v1/auth/password/forgot", { body: { email }, anonymous: true });
  }

  /** Set a new password with the emailed token; every other session ends. */
  resetPassword(token: string, password: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/password/reset", { token, password });
  }

  /** Change (or first set) the password; other sessions end and this one gets new tokens. */
  async changePassword(currentPassword: string | null, newPassword: string): Promise<Session> {
    const auth = await this.post<AuthOut>("/api/v1/me/password", { current_password: currentPassword, new_password: newPassword });
    return this.sessions.setFromAuth(auth);
  }

  /** The signed-in user as the server has it now (kept in the session). */
  async me(signal?: AbortSignal): Promise<User | null> {
    const out = await this.get<{ user: User | null }>("/api/v1/me", signal);
    if (out.user) this.sessions.updateUser(out.user);
    return out.user;
  }

  async identities(): Promise<Identity[]> {
    return (await this.get<{ identities: Identity[] }>("/api/v1/me/identities")).identities;
  }

  /** Refused with 409 when it is the last way to sign in. */
  unlinkIdentity(id: string): Promise<void> {
    return this.delete(`/api/v1/me/identities/${encodeURIComponent(id)}`);
  }

  /** The user's signed-in devices and the use of the API keys they created. */
  signedInSessions(): Promise<SessionsOut> {
    return this.get<SessionsOut>("/api/v1/me/sessions");
  }

  endSession(id: string): Promise<void> {
    return this.delete(`/api/v1/me/sessions/${encodeURIComponent(id)}`);
  }

  revokeApiKey(id: string): Promise<void> {
    return this.delete(`/api/v1/me/api-keys/${encodeURIComponent(id)}`);
  }

  async signOut(): Promise<void> {
    const session = this.sessions.get();
    try {
      if (session) await this.post("/api/v1/auth/logout", { refresh_token: session.refreshToken });
    } catch {
      // Signing out locally must work offline too; the refresh token expires by itself.
    } finally {
      this.sessions.clear();
    }
  }

  /** An access token valid for at least REFRESH_MARGIN_MS, refreshing first if needed. */
  async freshToken(): Promise<string | null> {
    const session = this.sessions.get();
    if (!session) return null;
    if (session.expiresAt - Date.now() > REFRESH_MARGIN_MS) return session.accessToken;
    const renewed = await this.refresh().catch(() => null);
    return renewed?.accessToken ?? session.accessToken;
  }

  /**
   * Rotate the refresh token for new tokens. One refresh runs at a time; when the
   * server refuses the refresh token (revoked, reused, expired) the session ends.
   * Offline, the session is kept and the error is raised.
   */
  refresh(): Promise<Session | null> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<Session | null> {
    const before = this.sessions.get();
    // Another tab may already have rotated it: use the newest stored token.
    const session = this.sessions.reload() ?? before;
    if (!session) return null;
    if (before && session.refreshToken !== before.refreshToken && session.expiresAt - Date.now() > REFRESH_MARGIN_MS) {
      return session;
    }
    const response = await this.send("POST", "/api/v1/auth/refresh", {
      body: { refresh_token: session.refreshToken },
      anonymous: true,
    }, null);
    if (response.status === 401 || response.status === 403 || response.status === 422) {
      this.sessions.clear();
      return null;
    }
    const auth = await ApiClient.read<AuthOut>(response);
    return this.sessions.setFromAuth(auth);
  }

  private async send(method: string, path: string, options: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    let body: BodyInit | undefined;
    if (options.form) {
      body = options.form;
    } else if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const init: RequestInit = { method, headers, body, signal: options.signal };
      if (options.credentials) init.credentials = options.credentials;
      return await fetch(this.base + path, init);
    } catch (error) {
      if ((error as Error)?.name === "AbortError") throw error;
      throw new ApiError(0, "offline", "The server cannot be reached. Check your connection.");
    }
  }

  static async read<T>(response: Response): Promise<T> {
    if (response.ok) {
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    }
    let code = `http_${response.status}`;
    let message = response.statusText || `The server answered ${response.status}.`;
    let details: unknown = null;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string; details?: unknown } };
      if (body?.error) {
        code = body.error.code ?? code;
        message = body.error.message ?? message;
        details = body.error.details ?? null;
      }
    } catch {
      // Not our envelope (a proxy's page): keep the status text.
    }
    throw new ApiError(response.status, code, message, details);
  }
}

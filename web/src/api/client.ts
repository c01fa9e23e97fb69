// The REST client: bearer token, silent refresh (one at a time, shared by every
// caller and every tab), and the API's error envelope as ApiError.
import type { SessionStore, Session } from "./session";
import type { AuthOut } from "./types";

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

  async signIn(email: string, password: string): Promise<Session> {
    const auth = await this.request<AuthOut>("POST", "/api/v1/auth/login", {
      body: { email, password },
      anonymous: true,
    });
    return this.sessions.setFromAuth(auth);
  }

  async signUp(email: string, password: string, displayName: string): Promise<Session> {
    const auth = await this.request<AuthOut>("POST", "/api/v1/auth/signup", {
      body: { email, password, display_name: displayName || null },
      anonymous: true,
    });
    return this.sessions.setFromAuth(auth);
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
      return await fetch(this.base + path, { method, headers, body, signal: options.signal });
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

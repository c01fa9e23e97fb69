// Shapes of the REST API's JSON (see /openapi.json).

export type ProjectRole = "owner" | "editor" | "viewer";

export interface User {
  id: string;
  email: string;
  display_name: string;
  /** The address was proven (an emailed link, or a provider that verified it). */
  email_verified: boolean;
  /** False for accounts made by a provider sign-in: they may set one. */
  has_password: boolean;
}

export interface AuthOut {
  user: User;
  access_token: string;
  refresh_token: string;
  token_type: string;
  /** Seconds until the access token expires. */
  expires_in: number;
}

/** A sign-in provider the server offers (GET /api/v1/auth/providers). */
export interface AuthProvider {
  /** [a-z0-9-]+, used in the URLs. */
  name: string;
  label: string;
  kind: "oidc" | "github";
}

export type OAuthMode = "signin" | "link";

/** A provider account linked to the user (GET /api/v1/me/identities). */
export interface Identity {
  id: string;
  provider: string;
  label: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** A signed-in device (a refresh-token family) of the user. */
export interface SessionOut {
  id: string;
  current: boolean;
  /** "password", "reset", "email-link" or a provider's name. */
  method: string;
  /** "Chrome on Linux", from the User-Agent. */
  device: string | null;
  ip: string | null;
  /** "United Kingdom", "this computer", "local network" or unknown. */
  place: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** An active API key the user created, and where it was last used from. */
export interface KeyUseOut {
  id: string;
  name: string;
  prefix: string;
  project_id: string;
  project_name: string;
  role: ProjectRole;
  device: string | null;
  ip: string | null;
  place: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface SessionsOut {
  sessions: SessionOut[];
  api_keys: KeyUseOut[];
}

export interface Project {
  id: string;
  name: string;
  description: string;
  role: ProjectRole;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Member {
  user_id: string;
  email: string;
  display_name: string;
  role: ProjectRole;
  joined_at: string;
}

export interface Invite {
  id: string;
  role: ProjectRole;
  email: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
}

export interface PendingInvite {
  id: string;
  project_id: string;
  project_name: string;
  role: ProjectRole;
  invited_by: string | null;
  created_at: string;
  expires_at: string;
}

export interface Asset {
  id: string;
  project_id: string;
  kind: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  duration_s: number | null;
  sample_rate: number | null;
  channels: number | null;
  created_at: string;
  download_url: string;
  analysis: Record<string, unknown> | null;
}

export interface Waveform {
  asset_id: string;
  sample_rate: number;
  frames: number;
  duration_s: number;
  samples_per_point: number;
  points: number;
  min: number[];
  max: number[];
}

export interface Job {
  id: string;
  project_id: string;
  kind: string;
  status: string;
  progress: number;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  reused: boolean;
}

export interface TrackUploadOut {
  asset: Asset;
  track_id: string;
  job_id: string;
}

export interface PluginParam {
  name: string;
  unit: string;
  min: number;
  max: number;
  default: number;
  description: string;
}

export interface Plugin {
  /** The id written into a track's effect chain as `plugin`. */
  id: string;
  name: string;
  category: string;
  description: string;
  params: PluginParam[];
}

export interface Version {
  id: string;
  name: string;
  created_by: string | null;
  created_at: string;
}

export interface VersionDetail extends Version {
  changes: Record<string, unknown>;
  document: Record<string, unknown> | null;
}

/** A lyrics suggestion or rewrite (POST /api/v1/ai/lyrics and /ai/lyrics/restyle). */
export interface LyricsSuggestionOut {
  id: string;
  lines: string[];
  rhyme_scheme: string;
  source: "offline" | "openai";
  syllables: number[];
  notes: string[];
}

export interface LyricsOut {
  lyrics: LyricsSuggestionOut;
}

export interface LyricsFeedbackOut {
  suggestion_id: string;
  verdict: "accepted" | "edited" | "rejected";
}

export type MemoryKind = "lyrics" | "mix_preset" | "master_preset";
export type MemoryVerdict = "written" | "accepted" | "edited" | "rejected" | "chosen";

/** One thing the AI memory keeps of the signed-in user. */
export interface MemoryItem {
  id: string;
  kind: MemoryKind;
  text: string;
  verdict: MemoryVerdict;
  project_id: string | null;
  style: string | null;
  /** Epoch seconds. */
  created_at: number;
}

export interface MemoryOut {
  embedding_model: { name: string; dimensions: number };
  style_version: string;
  items: MemoryItem[];
}

// What every studio panel needs: the live connection, the caller's rights, the
// player and the API. Panels read the document through doc/hooks.ts.
import { createContext, useContext } from "react";
import type * as Y from "yjs";
import type { Awareness } from "y-protocols/awareness";
import type { ApiClient } from "../api/client";
import type { Project } from "../api/types";
import type { ProjectConnection, PresenceUser } from "../collab/connection";
import type { Player } from "../audio/player";

export interface Studio {
  projectId: string;
  project: Project | null;
  connection: ProjectConnection;
  doc: Y.Doc;
  awareness: Awareness;
  api: ApiClient;
  player: Player;
  me: PresenceUser;
  /** Owners and editors may change the document; viewers see and hear everything. */
  canEdit: boolean;
}

export const StudioContext = createContext<Studio | null>(null);

export function useStudio(): Studio {
  const studio = useContext(StudioContext);
  if (!studio) throw new Error("useStudio outside the studio");
  return studio;
}

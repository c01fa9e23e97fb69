// What the server's WebSocket close codes mean for the person at the keyboard
// (README, "Close codes"). A refusal before the socket opens reaches the browser
// only as 1006, so the connection asks the REST API why (see connection.ts).

export type CloseAction =
  /** Reconnect quietly; the sync handshake catches up. */
  | "reconnect"
  /** Renew the access token, then reconnect. */
  | "refresh"
  /** Stop and say why; reconnecting cannot help. */
  | "stop"
  /** Reconnect, but say why; stop if it keeps happening. */
  | "warn";

export interface CloseMeaning {
  action: CloseAction;
  message: string | null;
}

export function closeMeaning(code: number): CloseMeaning {
  switch (code) {
    case 4400:
      return { action: "warn", message: "The server refused a change from this tab. Reload the page if it keeps happening." };
    case 4401:
      return { action: "refresh", message: null };
    case 4403:
      return { action: "stop", message: "You do not have access to this project." };
    case 4404:
      return { action: "stop", message: "This project was deleted, or you were removed from it." };
    case 4408:
      return { action: "reconnect", message: null };
    case 4429:
      return { action: "warn", message: "Too much presence traffic from this tab; slowing down." };
    case 4500:
      return { action: "reconnect", message: null };
    case 4503:
      return { action: "warn", message: "The server cannot store changes right now; your edits are kept here and sent when it can." };
    case 1009:
      return { action: "warn", message: "A change was too large for the server to accept." };
    case 1011:
      return { action: "warn", message: "The server had a problem with this connection; reconnecting." };
    default:
      return { action: "reconnect", message: null };
  }
}

/** After this many closes with the same warning in a row, stop retrying. */
export const MAX_REPEATED_WARNINGS = 3;

// Placeholder: replaced by the panel's own work.
export function PresenceList() {
  return null;
}

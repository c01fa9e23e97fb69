// Placeholder: replaced by the panel's own work.
export function VersionsPanel() {
  return null;
}

// Placeholder: replaced by the panel's own work.
export function JobsPanel() {
  return null;
}

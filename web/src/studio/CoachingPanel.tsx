// Placeholder: replaced by the panel's own work.
export function CoachingPanel() {
  return null;
}

// Placeholder: replaced by the panel's own work.
export function SongSettings() {
  return null;
}

// Placeholder: replaced by the panel's own work.
export function Arrangement() {
  return null;
}

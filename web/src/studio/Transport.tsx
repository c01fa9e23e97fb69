// Placeholder: replaced by the panel's own work.
export function Transport() {
  return null;
}

// Placeholder: replaced by the panel's own work.
export function CommentsPanel() {
  return null;
}

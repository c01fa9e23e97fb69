// Placeholder: replaced by the panel's own work.
export function UploadButton() {
  return null;
}

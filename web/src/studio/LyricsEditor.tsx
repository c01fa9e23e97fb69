// Placeholder: replaced by the lyrics editor work.
export default function LyricsEditor() {
  return null;
}

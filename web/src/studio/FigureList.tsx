import type { Figure } from "./jobFigures";

/** A job's or a take's measured figures as a definition list (nothing when empty). */
export function FigureList({ figures }: { figures: Figure[] }) {
  if (figures.length === 0) return null;
  return (
    <dl className="job-figures">
      {figures.map((f) => (
        <div key={f.label}>
          <dt>{f.label}</dt>
          <dd>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}

// The selected clip's settings under the arrangement's toolbar: gain, loop count, and
// the length and curve of each fade. Every change is written at once (one transaction
// each); the writer keeps the fades fitting in the clip.
import type { Clip, ClipEdit, FadeCurve } from "../doc/model";
import { clipLengthS, MAX_LOOP_COUNT } from "../doc/model";
import { formatDuration } from "../timeline/math";
import { NumberField } from "./NumberField";
import "./arrangementEdit.css";

export const FADE_CURVE_NAMES: Record<FadeCurve, string> = {
  linear: "Linear",
  equal_power: "Equal power",
  exponential: "Exponential",
};

const GAIN_MIN_DB = -60;
const GAIN_MAX_DB = 24;

export function ClipInspector({ clip, trackName, canEdit, onEdit }: { clip: Clip; trackName: string; canEdit: boolean; onEdit: (fields: ClipEdit) => void }) {
  const length = clipLengthS(clip);
  const disabled = !canEdit;
  return (
    // Keyed by clip: a half-typed value does not follow the selection to another clip.
    <div className="clip-inspector" role="group" aria-label={`Clip inspector: ${trackName}`} key={`${clip.trackId}/${clip.id}`}>
      <span className="ci-title">
        Clip {trackName}
        <span className="muted">
          {" "}
          {clip.loopCount > 1 ? `${formatDuration(clip.durationS)} × ${clip.loopCount} = ${formatDuration(length)}` : formatDuration(length)}
        </span>
      </span>
      <NumberField label="Gain (dB)" value={clip.gainDb} min={GAIN_MIN_DB} max={GAIN_MAX_DB} step={0.5} decimals={1} disabled={disabled} onCommit={(gainDb) => onEdit({ gainDb })} />
      <NumberField label="Loops" value={clip.loopCount} min={1} max={MAX_LOOP_COUNT} step={1} decimals={0} disabled={disabled} onCommit={(loopCount) => onEdit({ loopCount: Math.round(loopCount) })} />
      <NumberField
        label="Fade in (s)"
        value={clip.fadeInS}
        min={0}
        max={Math.max(0, length - clip.fadeOutS)}
        step={0.05}
        decimals={3}
        disabled={disabled}
        onCommit={(fadeInS) => onEdit({ fadeInS })}
      />
      <CurveSelect label="Fade in curve" value={clip.fadeInCurve} disabled={disabled} onChange={(fadeInCurve) => onEdit({ fadeInCurve })} />
      <NumberField
        label="Fade out (s)"
        value={clip.fadeOutS}
        min={0}
        max={Math.max(0, length - clip.fadeInS)}
        step={0.05}
        decimals={3}
        disabled={disabled}
        onCommit={(fadeOutS) => onEdit({ fadeOutS })}
      />
      <CurveSelect label="Fade out curve" value={clip.fadeOutCurve} disabled={disabled} onChange={(fadeOutCurve) => onEdit({ fadeOutCurve })} />
    </div>
  );
}

function CurveSelect({ label, value, disabled, onChange }: { label: string; value: FadeCurve; disabled: boolean; onChange: (curve: FadeCurve) => void }) {
  return (
    <label className="number-field">
      {label}
      <select value={value} disabled={disabled} onChange={(event) => onChange(event.currentTarget.value as FadeCurve)}>
        {(Object.keys(FADE_CURVE_NAMES) as FadeCurve[]).map((curve) => (
          <option key={curve} value={curve}>
            {FADE_CURVE_NAMES[curve]}
          </option>
        ))}
      </select>
    </label>
  );
}

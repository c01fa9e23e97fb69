// A labelled number input that writes as it is typed or stepped: every valid number
// (clamped to min..max) is committed at once; what is being typed stays as typed until
// the field loses focus, then it shows the document's value again.
import { useId, useState, type ReactNode } from "react";

export interface NumberFieldProps {
  /** The visible label; its text (sr-only parts included) is the input's name. */
  label: ReactNode;
  value: number;
  min: number;
  max: number;
  step: number;
  /** Decimals shown when not editing. */
  decimals: number;
  disabled?: boolean;
  className?: string;
  onCommit(value: number): void;
}

export function NumberField({ label, value, min, max, step, decimals, disabled, className, onCommit }: NumberFieldProps) {
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const commit = (text: string) => {
    const number = Number(text);
    if (text.trim() === "" || !Number.isFinite(number)) return;
    onCommit(Math.min(max, Math.max(min, number)));
  };
  return (
    <span className={`number-field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        min={min}
        max={max}
        step={step}
        disabled={disabled}
        value={draft ?? String(Number(value.toFixed(decimals)))}
        onChange={(event) => {
          setDraft(event.currentTarget.value);
          commit(event.currentTarget.value);
        }}
        onBlur={() => setDraft(null)}
        onKeyDown={(event) => {
          if (event.key === "Enter") event.currentTarget.blur();
          if (event.key === "Escape") {
            setDraft(null);
            event.currentTarget.blur();
          }
          // Keys typed here are not the transport's or the clip's shortcuts.
          event.stopPropagation();
        }}
      />
    </span>
  );
}

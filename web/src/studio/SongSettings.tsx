// Tempo, key and time signature in the top bar. Editors open "Song settings" to change
// them (written into the document's meta through setMetaField); viewers read them.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useMeta } from "../doc/hooks";
import { setMetaField } from "../doc/model";
import { useStudio } from "./context";
import { checkBpm, checkKey, checkTimeSignature, MAX_BPM, MIN_BPM } from "./songSettings";
import "./songsettings.css";

const formatBpm = (bpm: number): string => String(Math.round(bpm * 100) / 100);

export function SongSettings() {
  const { doc, canEdit } = useStudio();
  const meta = useMeta(doc);
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const toggle = useRef<HTMLButtonElement>(null);
  const root = useRef<HTMLDivElement>(null);

  // Escape or a click elsewhere closes the popover; focus returns to its button.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        toggle.current?.focus();
      }
    };
    const onPointer = (e: PointerEvent) => {
      if (root.current && e.target instanceof Node && !root.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  // The name is the visible text plus hidden words: "Song settings: 96 BPM, A minor, 4/4".
  const summary = (
    <>
      <span className="sr-only">Song settings: </span>
      <span>
        {formatBpm(meta.bpm)} <abbr title="beats per minute">BPM</abbr>
      </span>
      <Separator />
      <span>{meta.key ?? "No key"}</span>
      <Separator />
      <span>{meta.timeSignature}</span>
    </>
  );

  if (!canEdit) {
    return (
      <dl className="song-settings song-settings-read" aria-label="Song settings">
        <div>
          <dt className="sr-only">Tempo</dt>
          <dd>
            {formatBpm(meta.bpm)} <abbr title="beats per minute">BPM</abbr>
          </dd>
        </div>
        <div>
          <dt className="sr-only">Key</dt>
          <dd>{meta.key ?? "No key"}</dd>
        </div>
        <div>
          <dt className="sr-only">Time signature</dt>
          <dd>{meta.timeSignature}</dd>
        </div>
      </dl>
    );
  }

  return (
    <div className="song-settings" ref={root}>
      <button
        ref={toggle}
        type="button"
        className="song-settings-toggle"
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        {summary}
      </button>
      {open && <SettingsForm id={panelId} onDone={() => { setOpen(false); toggle.current?.focus(); }} />}
    </div>
  );
}

function Separator() {
  return (
    <>
      <span className="song-settings-sep" aria-hidden="true">
        ·
      </span>
      <span className="sr-only">, </span>
    </>
  );
}

function SettingsForm({ id, onDone }: { id: string; onDone: () => void }) {
  const { doc } = useStudio();
  const meta = useMeta(doc);
  const [bpm, setBpm] = useState(formatBpm(meta.bpm));
  const [key, setKey] = useState(meta.key ?? "");
  const [signature, setSignature] = useState(meta.timeSignature);
  const [errors, setErrors] = useState<{ bpm?: string; key?: string; signature?: string }>({});
  const first = useRef<HTMLInputElement>(null);
  const ids = useId();

  useEffect(() => first.current?.focus(), []);

  function save(event: FormEvent) {
    event.preventDefault();
    const b = checkBpm(bpm);
    const k = checkKey(key);
    const s = checkTimeSignature(signature);
    const next = { bpm: b.ok ? undefined : b.error, key: k.ok ? undefined : k.error, signature: s.ok ? undefined : s.error };
    setErrors(next);
    if (!b.ok || !k.ok || !s.ok) return;
    // Only what changed is written, so a concurrent edit of another field survives.
    doc.transact(() => {
      if (b.value !== meta.bpm) setMetaField(doc, "bpm", b.value);
      if (k.value !== meta.key) setMetaField(doc, "key", k.value);
      if (s.value !== meta.timeSignature) setMetaField(doc, "time_signature", s.value);
    });
    onDone();
  }

  const describedBy = (name: string, error: string | undefined) => (error ? `${ids}-${name}-error` : undefined);

  return (
    <form id={id} className="song-settings-form" onSubmit={save} aria-label="Song settings" noValidate>
      <label>
        Tempo (BPM)
        <input
          ref={first}
          type="number"
          inputMode="decimal"
          min={MIN_BPM}
          max={MAX_BPM}
          step="any"
          value={bpm}
          aria-invalid={errors.bpm ? true : undefined}
          aria-describedby={describedBy("bpm", errors.bpm)}
          onChange={(e) => setBpm(e.target.value)}
        />
      </label>
      {errors.bpm && <p id={`${ids}-bpm-error`} className="error">{errors.bpm}</p>}
      <label>
        Key
        <input
          type="text"
          value={key}
          list={`${ids}-keys`}
          placeholder="e.g. A minor"
          aria-invalid={errors.key ? true : undefined}
          aria-describedby={describedBy("key", errors.key)}
          onChange={(e) => setKey(e.target.value)}
        />
      </label>
      <datalist id={`${ids}-keys`}>
        {["C major", "G major", "D major", "A major", "E major", "F major", "B♭ major", "E♭ major", "A minor", "E minor", "B minor", "D minor", "G minor", "C minor", "F♯ minor"].map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      {errors.key && <p id={`${ids}-key-error`} className="error">{errors.key}</p>}
      <label>
        Time signature
        <input
          type="text"
          value={signature}
          list={`${ids}-signatures`}
          placeholder="4/4"
          aria-invalid={errors.signature ? true : undefined}
          aria-describedby={describedBy("signature", errors.signature)}
          onChange={(e) => setSignature(e.target.value)}
        />
      </label>
      <datalist id={`${ids}-signatures`}>
        {["4/4", "3/4", "2/4", "6/8", "12/8", "5/4", "7/8", "2/2"].map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      {errors.signature && <p id={`${ids}-signature-error`} className="error">{errors.signature}</p>}
      <div className="song-settings-actions">
        <button type="submit" className="primary">
          Save settings
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

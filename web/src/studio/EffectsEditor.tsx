// A track's effect chain, edited against the plugin catalog: add, remove, reorder, and
// each parameter as a slider written live (throttled) into the shared document.
import { useEffect, useId, useMemo, useRef, useState } from "react";
import type React from "react";
import { createPortal } from "react-dom";
import type { Plugin, PluginParam } from "../api/types";
import { addEffect, moveEffect, removeEffect, setEffectParam, type Effect, type Track } from "../doc/model";
import { useStudio } from "./context";
import {
  defaultParams,
  formatParam,
  paramLabel,
  pluginCatalog,
  SLIDER_STEPS,
  sliderToValue,
  valueToSlider,
} from "./pluginCatalog";
import { useLiveValue } from "./useLiveValue";

interface Props {
  track: Track;
  onClose: () => void;
  /** Focused again when the dialog closes (else whatever had focus before it opened). */
  returnFocus?: React.RefObject<HTMLElement>;
}

export function EffectsEditor({ track, onClose, returnFocus }: Props) {
  const { api, doc, canEdit } = useStudio();
  const [plugins, setPlugins] = useState<Plugin[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [choice, setChoice] = useState("");
  const dialog = useRef<HTMLDivElement>(null);
  const titleId = useId();

  useEffect(() => {
    let live = true;
    pluginCatalog(api).then(
      (items) => {
        if (!live) return;
        setPlugins(items);
        setChoice((c) => c || items[0]?.id || "");
      },
      (error: Error) => live && setLoadError(error.message),
    );
    return () => {
      live = false;
    };
  }, [api]);

  // Focus moves into the dialog and back to where it came from when it closes.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    dialog.current?.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    return () => (returnFocus?.current ?? before)?.focus();
  }, [returnFocus]);

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== "Tab" || !dialog.current) return;
    // Keep Tab inside the dialog.
    const focusable = Array.from(
      dialog.current.querySelectorAll<HTMLElement>("button:not(:disabled), input:not(:disabled), select:not(:disabled), [tabindex='0']"),
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  const byId = useMemo(() => new Map((plugins ?? []).map((p) => [p.id, p])), [plugins]);
  const chosen = byId.get(choice);

  return createPortal(
    <div
      className="overlay"
      // Portal events bubble through the React tree: keep them from the arrangement's shortcuts.
      onKeyDown={(event) => event.stopPropagation()}
      onClick={(event) => event.stopPropagation()}
      onDragOver={(event) => event.stopPropagation()}
      onDrop={(event) => event.stopPropagation()}
      onPointerDown={(event) => {
        event.stopPropagation();
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div ref={dialog} className="card fx-dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} onKeyDown={onKeyDown}>
        <div className="row">
          <h2 id={titleId} className="grow">
            Effects of {track.name}
          </h2>
          <button type="button" onClick={onClose} aria-label="Close effects" data-autofocus>
            <span aria-hidden="true">×</span>
          </button>
        </div>
        <p className="muted fx-hint">
          Applied in order, top first, when the project is mixed. Changes reach everyone at once.
        </p>
        {loadError && (
          <p className="error" role="alert">
            The effect list could not be loaded: {loadError}
          </p>
        )}
        {track.effects.length === 0 ? (
          <p className="muted">No effects on this track yet.</p>
        ) : (
          <ol className="fx-chain">
            {track.effects.map((effect, index) => (
              <EffectRow
                // Effects have no ids; position plus plugin is stable enough for a list that re-renders from the doc.
                key={`${index}-${effect.plugin}`}
                track={track}
                effect={effect}
                index={index}
                plugin={byId.get(effect.plugin) ?? null}
                canEdit={canEdit}
              />
            ))}
          </ol>
        )}
        <div className="row wrap fx-add">
          <label className="grow">
            Add effect
            <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)} disabled={!canEdit || !plugins}>
              {!plugins && <option value="">Loading effects…</option>}
              {(plugins ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.category})
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="primary"
            disabled={!canEdit || !chosen}
            onClick={() => chosen && addEffect(doc, track.id, chosen.id, defaultParams(chosen))}
          >
            Add
          </button>
        </div>
        {chosen && <p className="muted fx-hint">{chosen.description}</p>}
      </div>
    </div>,
    document.body,
  );
}

function EffectRow({
  track,
  effect,
  index,
  plugin,
  canEdit,
}: {
  track: Track;
  effect: Effect;
  index: number;
  plugin: Plugin | null;
  canEdit: boolean;
}) {
  const { doc } = useStudio();
  const name = plugin?.name ?? effect.plugin;
  const count = track.effects.length;
  const params: PluginParam[] =
    plugin?.params ??
    Object.keys(effect.params).map((p) => ({ name: p, unit: "", min: -1e9, max: 1e9, default: 0, description: "" }));
  return (
    <li className="fx-effect">
      <fieldset>
        <legend>
          {index + 1}. {name}
          {!plugin && <span className="muted"> (not in this server's catalog: kept but not editable)</span>}
        </legend>
        <div className="row fx-actions">
          <button
            type="button"
            className="small"
            disabled={!canEdit || index === 0}
            aria-label={`Move ${name} up`}
            onClick={() => moveEffect(doc, track.id, index, index - 1)}
          >
            <span aria-hidden="true">↑</span>
          </button>
          <button
            type="button"
            className="small"
            disabled={!canEdit || index >= count - 1}
            aria-label={`Move ${name} down`}
            onClick={() => moveEffect(doc, track.id, index, index + 1)}
          >
            <span aria-hidden="true">↓</span>
          </button>
          <button
            type="button"
            className="small danger"
            disabled={!canEdit}
            aria-label={`Remove ${name}`}
            onClick={() => removeEffect(doc, track.id, index)}
          >
            Remove
          </button>
        </div>
        {plugin
          ? params.map((param) => (
              <ParamSlider
                key={param.name}
                trackId={track.id}
                index={index}
                param={param}
                value={effect.params[param.name] ?? param.default}
                disabled={!canEdit}
              />
            ))
          : params.map((param) => (
              <p key={param.name} className="muted">
                {param.name}: {effect.params[param.name]}
              </p>
            ))}
      </fieldset>
    </li>
  );
}

function ParamSlider({
  trackId,
  index,
  param,
  value,
  disabled,
}: {
  trackId: string;
  index: number;
  param: PluginParam;
  value: number;
  disabled: boolean;
}) {
  const { doc } = useStudio();
  const live = useLiveValue(
    value,
    (v) => setEffectParam(doc, trackId, index, param.name, v),
    param.default,
    disabled,
    [doc, trackId, index, param.name],
  );
  const shown = live.shown;
  const hintId = useId();
  return (
    <div className="fx-param">
      <span className="fx-param-head">
        <span>{paramLabel(param)}</span>
        <output>{formatParam(param, shown)}</output>
      </span>
      <input
        type="range"
        min={0}
        max={SLIDER_STEPS}
        step={1}
        value={valueToSlider(param, shown)}
        aria-label={paramLabel(param)}
        aria-valuetext={formatParam(param, shown)}
        aria-describedby={param.description ? hintId : undefined}
        disabled={disabled}
        onChange={(e) => live.change(sliderToValue(param, Number(e.currentTarget.value)))}
        onPointerUp={live.release}
        onKeyUp={live.release}
        onBlur={live.release}
        onDoubleClick={live.reset}
      />
      {param.description && (
        <span id={hintId} className="fx-param-hint">
          {param.description} · {formatParam(param, param.min)} to {formatParam(param, param.max)}
        </span>
      )}
    </div>
  );
}

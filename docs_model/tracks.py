"""Tracks, their order, clips and effects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pycrdt import Array, Map

from .base import DocumentBase, Origin, new_id
from .clip_records import fades_fit
from .errors import (
    InvalidValueError,
    MalformedDocumentError,
    UnknownClipError,
    UnknownTrackError,
)
from .fields import UNSET, Unset, checked_fields, describe, has_key
from .ordering import generate_key_between, generate_n_keys_between, is_valid_order_key
from .records import checked_entry
from .schema import ClipView, EffectView, FadeCurve, TrackKind, TrackView
from .views import CLIP_FIELDS, TRACK_FIELDS, read_clip, read_track, sort_tracks

__all__ = ["EffectSpec", "TracksMixin"]

EffectSpec = EffectView | Mapping[str, object]
"""An effect to write: an `EffectView` or a mapping with `plugin` and optional `params`."""


def _check_fades(fields: Mapping[str, object]) -> None:
    if not fades_fit(fields):
        raise InvalidValueError(
            "the fades must fit in the clip: fade_in_s + fade_out_s <= duration_s * loop_count"
        )


def _effect_entries(effects: Sequence[EffectSpec]) -> list[tuple[str, dict[str, object]]]:
    checked: list[tuple[str, dict[str, object]]] = []
    for index, effect in enumerate(effects):
        if not isinstance(effect, EffectView):
            effect = {**effect, "params": effect.get("params") or {}}
        entry = checked_entry(EffectView, effect, f"effects[{index}]")
        plugin, params = entry["plugin"], entry["params"]
        assert isinstance(plugin, str)
        assert isinstance(params, dict)
        checked.append((plugin, params))
    return checked


class TracksMixin(DocumentBase):
    def add_track(
        self,
        name: str,
        kind: TrackKind | str = TrackKind.AUDIO,
        *,
        asset_id: str | None = None,
        volume_db: float = 0.0,
        pan: float = 0.0,
        mute: bool = False,
        solo: bool = False,
        instrument: int | None = None,
        after: str | None = None,
        before: str | None = None,
        origin: Origin = None,
    ) -> str:
        """Add a track and return its id; it goes at the end unless `after` or `before`
        names the track it should follow or precede. A MIDI track plays General MIDI
        program `instrument` (0 to 127)."""
        fields = checked_fields(
            {
                "name": name,
                "kind": kind,
                "asset_id": asset_id,
                "volume_db": volume_db,
                "pan": pan,
                "mute": mute,
                "solo": solo,
                "instrument": instrument,
            },
            TRACK_FIELDS,
        )
        track_id = new_id()
        with self._transaction(origin):
            fields["order"] = self._place(None, after, before)
            # One prelim Map with its empty containers: a fresh id means no peer can
            # race us to create them.
            self._roots.tracks[track_id] = Map(
                {**fields, "clips": Map(), "effects": Array(), "midi_clips": Map()}
            )
        return track_id

    def get_track(self, track_id: str) -> TrackView:
        """The track, its clips sorted by start and its effects in chain order."""
        if not has_key(self._roots.tracks, track_id):
            raise UnknownTrackError(track_id)
        view = read_track(track_id, self._roots.tracks[track_id])
        if view is None:
            self._track_map(track_id)  # raises MalformedDocumentError
        assert view is not None
        return view

    def tracks_in_order(self) -> list[TrackView]:
        """All readable tracks in display order (see `ordering.order_sort_key`)."""
        with self._transaction(None):
            views = (read_track(tid, raw) for tid, raw in list(self._roots.tracks.items()))
            return sort_tracks([view for view in views if view is not None])

    def update_track(
        self,
        track_id: str,
        *,
        name: str | Unset = UNSET,
        kind: TrackKind | str | Unset = UNSET,
        volume_db: float | Unset = UNSET,
        pan: float | Unset = UNSET,
        mute: bool | Unset = UNSET,
        solo: bool | Unset = UNSET,
        asset_id: str | Unset | None = UNSET,
        instrument: int | Unset | None = UNSET,
        origin: Origin = None,
    ) -> None:
        """Set the given fields of a track, leaving the others as they are."""
        fields = checked_fields(
            {
                "name": name,
                "kind": kind,
                "volume_db": volume_db,
                "pan": pan,
                "mute": mute,
                "solo": solo,
                "asset_id": asset_id,
                "instrument": instrument,
            },
            TRACK_FIELDS,
        )
        with self._transaction(origin):
            track = self._track_map(track_id)
            for key, value in fields.items():
                track[key] = value

    def remove_track(self, track_id: str, *, origin: Origin = None) -> None:
        """Remove a track with its clips, effects and coaching."""
        with self._transaction(origin):
            if not has_key(self._roots.tracks, track_id):
                raise UnknownTrackError(track_id)
            del self._roots.tracks[track_id]
            if has_key(self._roots.coaching, track_id):
                del self._roots.coaching[track_id]

    def move_track(
        self,
        track_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        origin: Origin = None,
    ) -> None:
        """Move a track right after `after`, right before `before` (both: between them,
        which must be neighbours), or to the end if neither is given."""
        with self._transaction(origin):
            track = self._track_map(track_id)
            track["order"] = self._place(track_id, after, before)

    def _place(self, moving: str | None, after: str | None, before: str | None) -> str:
        """An order key for the given position among the other tracks.

        When the neighbours' keys cannot bracket a new one (equal keys from concurrent
        inserts, or malformed keys from a peer), every track is re-keyed in order: rare,
        and it leaves an order that every peer reads the same way.
        """
        for name, other in (("after", after), ("before", before)):
            if other is not None and other == moving:
                raise InvalidValueError(f"cannot place track {moving!r} {name} itself")
            if other is not None and not has_key(self._roots.tracks, other):
                raise UnknownTrackError(other)
        others = [track for track in self.tracks_in_order() if track.id != moving]
        ids = [track.id for track in others]
        for other in (after, before):
            if other is not None and other not in ids:
                raise MalformedDocumentError(f"tracks.{other} is not a readable track")
        if after is not None:
            index = ids.index(after) + 1
            if before is not None and (index >= len(ids) or ids[index] != before):
                raise InvalidValueError(
                    f"tracks {after!r} and {before!r} are not neighbours; pass only one of them"
                )
        elif before is not None:
            index = ids.index(before)
        else:
            index = len(ids)
        low = others[index - 1].order if index > 0 else None
        high = others[index].order if index < len(others) else None
        if all(key is None or is_valid_order_key(key) for key in (low, high)) and (
            low is None or high is None or low < high
        ):
            return generate_key_between(low, high)
        keys = generate_n_keys_between(None, None, len(others) + 1)
        for track, key in zip(others, keys[:index] + keys[index + 1 :], strict=True):
            raw = self._roots.tracks[track.id]
            if isinstance(raw, Map) and track.order != key:
                raw["order"] = key
        return keys[index]

    # Clips

    def add_clip(
        self,
        track_id: str,
        asset_id: str,
        *,
        start_s: float,
        duration_s: float,
        offset_s: float = 0.0,
        gain_db: float = 0.0,
        fade_in_s: float = 0.0,
        fade_out_s: float = 0.0,
        fade_in_curve: FadeCurve | str = FadeCurve.LINEAR,
        fade_out_curve: FadeCurve | str = FadeCurve.LINEAR,
        loop_count: int = 1,
        origin: Origin = None,
    ) -> str:
        """Place `duration_s` of asset `asset_id` (from `offset_s` in it) at `start_s` in
        the song, played `loop_count` times, with fades; returns the clip id."""
        fields = checked_fields(
            {
                "asset_id": asset_id,
                "start_s": start_s,
                "offset_s": offset_s,
                "duration_s": duration_s,
                "gain_db": gain_db,
                "fade_in_s": fade_in_s,
                "fade_out_s": fade_out_s,
                "fade_in_curve": fade_in_curve,
                "fade_out_curve": fade_out_curve,
                "loop_count": loop_count,
            },
            CLIP_FIELDS,
        )
        _check_fades(fields)
        clip_id = new_id()
        with self._transaction(origin):
            clips = self._clips_map(track_id, create=True)
            assert clips is not None
            clips[clip_id] = Map(fields)
        return clip_id

    def get_clip(self, track_id: str, clip_id: str) -> ClipView:
        clips = self._clips_map(track_id, create=False)
        if clips is None or not has_key(clips, clip_id):
            raise UnknownClipError(clip_id)
        view = read_clip(clip_id, clips[clip_id])
        if view is None:
            raise MalformedDocumentError(f"tracks.{track_id}.clips.{clip_id} is not readable")
        return view

    def update_clip(
        self,
        track_id: str,
        clip_id: str,
        *,
        asset_id: str | Unset = UNSET,
        start_s: float | Unset = UNSET,
        offset_s: float | Unset = UNSET,
        duration_s: float | Unset = UNSET,
        gain_db: float | Unset = UNSET,
        fade_in_s: float | Unset = UNSET,
        fade_out_s: float | Unset = UNSET,
        fade_in_curve: FadeCurve | str | Unset = UNSET,
        fade_out_curve: FadeCurve | str | Unset = UNSET,
        loop_count: int | Unset = UNSET,
        origin: Origin = None,
    ) -> None:
        """Set the given fields of a clip, leaving the others as they are."""
        fields = checked_fields(
            {
                "asset_id": asset_id,
                "start_s": start_s,
                "offset_s": offset_s,
                "duration_s": duration_s,
                "gain_db": gain_db,
                "fade_in_s": fade_in_s,
                "fade_out_s": fade_out_s,
                "fade_in_curve": fade_in_curve,
                "fade_out_curve": fade_out_curve,
                "loop_count": loop_count,
            },
            CLIP_FIELDS,
        )
        with self._transaction(origin):
            current = self.get_clip(track_id, clip_id)
            merged = {
                "duration_s": current.duration_s,
                "loop_count": float(current.loop_count),
                "fade_in_s": current.fade_in_s,
                "fade_out_s": current.fade_out_s,
                **fields,
            }
            _check_fades(merged)
            clip = self._clip_map(track_id, clip_id)
            for key, value in fields.items():
                clip[key] = value

    def remove_clip(self, track_id: str, clip_id: str, *, origin: Origin = None) -> None:
        with self._transaction(origin):
            clips = self._clips_map(track_id, create=False)
            if clips is None or not has_key(clips, clip_id):
                raise UnknownClipError(clip_id)
            del clips[clip_id]

    def _clips_map(self, track_id: str, *, create: bool) -> Map[object] | None:
        track = self._track_map(track_id)
        clips = track.get("clips")
        if clips is None and create:
            # Only tracks a bare client made lack `clips`; two peers creating it at once
            # would keep one Map (LWW), which is why migrations do not create it.
            clips = Map()
            track["clips"] = clips
        if clips is not None and not isinstance(clips, Map):
            raise MalformedDocumentError(f"tracks.{track_id}.clips is {describe(clips)}, not a Map")
        return clips

    def _clip_map(self, track_id: str, clip_id: str) -> Map[object]:
        clips = self._clips_map(track_id, create=False)
        if clips is None or not has_key(clips, clip_id):
            raise UnknownClipError(clip_id)
        clip = clips[clip_id]
        if not isinstance(clip, Map):
            raise MalformedDocumentError(
                f"tracks.{track_id}.clips.{clip_id} is {describe(clip)}, not a Map"
            )
        return clip

    # Effects

    def set_effects(
        self, track_id: str, effects: Sequence[EffectSpec], *, origin: Origin = None
    ) -> None:
        """Make the track's effect chain `effects`, in order.

        Entries whose plugin is unchanged are edited in place (parameter by parameter),
        so two peers tweaking the same chain merge instead of duplicating it; the rest of
        the chain is replaced.
        """
        wanted = _effect_entries(effects)
        with self._transaction(origin):
            track = self._track_map(track_id)
            chain = track.get("effects")
            if chain is None:
                track["effects"] = Array([_effect_map(p, params) for p, params in wanted])
                return
            if not isinstance(chain, Array):
                raise MalformedDocumentError(
                    f"tracks.{track_id}.effects is {describe(chain)}, not an Array"
                )
            kept = 0
            for (plugin, params), current in zip(wanted, list(chain), strict=False):
                if not (isinstance(current, Map) and current.get("plugin") == plugin):
                    break
                current_params = current.get("params")
                if isinstance(current_params, Map):
                    _sync_params(current_params, params)
                else:
                    current["params"] = Map(params)
                kept += 1
            if kept < len(chain):
                del chain[kept:]
            for plugin, params in wanted[kept:]:
                chain.append(_effect_map(plugin, params))


def _effect_map(plugin: str, params: dict[str, object]) -> Map[object]:
    return Map({"plugin": plugin, "params": Map(params)})


def _sync_params(target: Map[object], params: dict[str, object]) -> None:
    stale = [key for key in list(target.keys()) if key not in params]
    for key in stale:
        del target[key]
    for key, value in params.items():
        if key not in target or target[key] != value:
            target[key] = value

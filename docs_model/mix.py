"""Mix settings and the latest render and master, with their measurements."""

from __future__ import annotations

from collections.abc import Mapping

from .base import DocumentBase, Origin
from .fields import UNSET, Unset, checked_fields
from .schema import MixView
from .views import MIX_FIELDS, read_mix

__all__ = ["MixMixin"]


class MixMixin(DocumentBase):
    def get_mix(self) -> MixView:
        with self._transaction(None):
            return read_mix(self._roots.mix)

    def update_mix(
        self,
        *,
        preset: str | Unset | None = UNSET,
        master_settings: Mapping[str, object] | Unset | None = UNSET,
        render_asset_id: str | Unset | None = UNSET,
        render_loudness_lufs: float | Unset | None = UNSET,
        render_true_peak_dbtp: float | Unset | None = UNSET,
        master_asset_id: str | Unset | None = UNSET,
        master_loudness_lufs: float | Unset | None = UNSET,
        master_true_peak_dbtp: float | Unset | None = UNSET,
        origin: Origin = None,
    ) -> None:
        """Set the given mix fields (loudness in LUFS, true peak in dBTP), leaving the
        others as they are; `master_settings` is a JSON mapping."""
        fields = checked_fields(
            {
                "preset": preset,
                "master_settings": master_settings,
                "render_asset_id": render_asset_id,
                "render_loudness_lufs": render_loudness_lufs,
                "render_true_peak_dbtp": render_true_peak_dbtp,
                "master_asset_id": master_asset_id,
                "master_loudness_lufs": master_loudness_lufs,
                "master_true_peak_dbtp": master_true_peak_dbtp,
            },
            MIX_FIELDS,
        )
        with self._transaction(origin):
            for key, value in fields.items():
                self._roots.mix[key] = value

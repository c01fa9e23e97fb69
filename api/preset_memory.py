"""Presets the AI memory recommends: each user's mixing and mastering choices.

A mixing or mastering request that names a preset is remembered as that user's
choice for the project as it is (its tracks, key and tempo: the *context*); a
request that names none takes the preset the user chose most for similar
projects, when there is one (else the usual default: ``mix.preset`` or pop for
mixing, streaming for mastering). The job's params say which preset ran; the log
notes when the memory chose it.
"""

from __future__ import annotations

import logging
from typing import Any

from jacameno.api.services import AppServices
from jacameno.audio_services.memory.store import MemoryKind, Verdict
from jacameno.docs_model import ProjectDocument

__all__ = ["PRESET_KINDS", "preset_context", "recommended_params", "remember_choice"]

log = logging.getLogger("jacameno.lyrics")

#: Job kinds whose presets are remembered, and the memory kind of each.
PRESET_KINDS = {"mixing": MemoryKind.MIX_PRESET, "mastering": MemoryKind.MASTER_PRESET}
_ORIGIN = "service:api"


def preset_context(project: ProjectDocument) -> str:
    """The project as a preset choice depends on it: track kinds and names, key, tempo."""
    meta = project.get_meta()
    tracks = ", ".join(f"{t.kind.value} {t.name}" for t in project.tracks_in_order()[:32])
    return f"tracks: {tracks or 'none'}; key: {meta.key or 'unknown'}; tempo: {meta.bpm:g} bpm"


async def recommended_params(
    services: AppServices, user_id: str | None, project_id: str, kind: str, params: dict[str, Any]
) -> dict[str, Any]:
    """``params`` with the remembered preset filled in when they name none."""
    memory = services.lyrics.memory
    memory_kind = PRESET_KINDS.get(kind)
    if memory is None or memory_kind is None or user_id is None or "preset" in params:
        return params
    async with services.rooms.document(project_id, origin=_ORIGIN) as doc:
        context = preset_context(ProjectDocument(doc))
    recommended = await memory.recommend_preset(user_id, memory_kind, context)
    if recommended is None:
        return params
    log.info("%s preset %s recommended for user %s", kind, recommended, user_id)
    return {**params, "preset": recommended}


async def remember_choice(
    services: AppServices, user_id: str | None, project_id: str, kind: str, preset: str
) -> None:
    """Remember that ``user_id`` chose ``preset`` for ``project_id`` as it is now."""
    memory = services.lyrics.memory
    memory_kind = PRESET_KINDS.get(kind)
    if memory is None or memory_kind is None or user_id is None:
        return
    async with services.rooms.document(project_id, origin=_ORIGIN) as doc:
        context = preset_context(ProjectDocument(doc))
    await memory.remember(
        user_id, memory_kind, preset, Verdict.CHOSEN, project_id=project_id, style=context
    )

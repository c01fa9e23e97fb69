"""to_json(): the layout REST and GraphQL serve."""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Array, Doc, Map

from jacameno.docs_model import ProjectDocument, to_json

from .conftest import FakeClock


def test_layout(project: ProjectDocument, clock: FakeClock) -> None:
    bass = project.add_track("Bass", "instrument", volume_db=-2.5)
    drums = project.add_track("Drums", before=bass)
    clip = project.add_clip(drums, "asset-d", start_s=4, duration_s=8)
    project.set_effects(drums, [{"plugin": "compressor", "params": {"ratio": 4}}])
    project.set_automation(drums, "pan", [{"time_s": 2, "value": -0.5, "curve": "hold"}])
    project.set_lyrics_text("Hello\nworld")
    project.update_lyrics_meta({"rhyme_scheme": "AA"})
    job = project.request_job("analysis", {"track_id": drums}, "user-1")
    job_at = clock.now
    comment = project.add_comment("ana", "tight!", 4.0)
    comment_at = clock.now
    view = to_json(project)
    assert json.loads(json.dumps(view, allow_nan=False)) == view
    assert view == {
        "schema_version": 1,
        "meta": {
            "schema_version": 1,
            "title": "Demo",
            "bpm": 96.0,
            "key": None,
            "time_signature": "4/4",
        },
        "tracks": [
            {
                "id": drums,
                "name": "Drums",
                "kind": "audio",
                "order": "Zz",
                "volume_db": 0.0,
                "pan": 0.0,
                "mute": False,
                "solo": False,
                "asset_id": None,
                "clips": [
                    {
                        "id": clip,
                        "asset_id": "asset-d",
                        "start_s": 4.0,
                        "offset_s": 0.0,
                        "duration_s": 8.0,
                        "gain_db": 0.0,
                        "fade_in_s": 0.0,
                        "fade_out_s": 0.0,
                        "fade_in_curve": "linear",
                        "fade_out_curve": "linear",
                        "loop_count": 1,
                    }
                ],
                "effects": [{"plugin": "compressor", "params": {"ratio": 4.0}}],
                "volume_automation": [],
                "pan_automation": [{"time_s": 2.0, "value": -0.5, "curve": "hold"}],
                "instrument": None,
                "midi_clips": [],
            },
            {
                "id": bass,
                "name": "Bass",
                "kind": "instrument",
                "order": "a0",
                "volume_db": -2.5,
                "pan": 0.0,
                "mute": False,
                "solo": False,
                "asset_id": None,
                "clips": [],
                "effects": [],
                "volume_automation": [],
                "pan_automation": [],
                "instrument": None,
                "midi_clips": [],
            },
        ],
        "lyrics": "Hello\nworld",
        "lyrics_meta": {"rhyme_scheme": "AA"},
        "mix": {
            "preset": None,
            "master_settings": {},
            "render_asset_id": None,
            "render_loudness_lufs": None,
            "render_true_peak_dbtp": None,
            "master_asset_id": None,
            "master_loudness_lufs": None,
            "master_true_peak_dbtp": None,
        },
        "jobs": [
            {
                "id": job,
                "kind": "analysis",
                "status": "queued",
                "progress": 0.0,
                "params": {"track_id": drums},
                "requested_by": "user-1",
                "result": None,
                "error": None,
                "created_at": job_at,
                "updated_at": job_at,
                "started_at": None,
                "finished_at": None,
            }
        ],
        "coaching": {},
        "comments": [
            {
                "id": comment,
                "author": "ana",
                "text": "tight!",
                "time_s": 4.0,
                "created_at": comment_at,
                "reply_to": None,
                "resolved": False,
            }
        ],
    }
    # Enum members are turned into plain strings, not StrEnum instances.
    assert type(view["tracks"][0]["kind"]) is str


def test_bare_doc_reads_as_defaults() -> None:
    view = to_json(Doc())
    assert view["schema_version"] == 0
    assert view["tracks"] == []
    assert view["jobs"] == []
    assert view["comments"] == []
    assert view["lyrics"] == ""
    assert view["coaching"] == {}


def test_wrong_shapes_are_skipped_or_repaired(project: ProjectDocument) -> None:
    track_id = project.add_track("ok")
    raw = project.roots.tracks[track_id]
    raw["pan"] = "left"
    raw["clips"]["c"] = Map({"asset_id": "a", "start_s": 0.0, "duration_s": -1.0})
    raw["effects"].append(Map({"params": Map()}))
    project.roots.tracks["junk"] = 3.0
    project.roots.jobs["j"] = Map({"kind": "mixing", "status": "?"})
    project.roots.coaching[track_id] = Map({"notes": Array(["x", Map({"message": "m"})])})
    view = to_json(project)
    assert [t["id"] for t in view["tracks"]] == [track_id]
    track = view["tracks"][0]
    assert track["pan"] == 0.0
    assert track["clips"] == []
    assert track["effects"] == []
    assert view["jobs"] == []
    assert view["coaching"] == {
        track_id: {"track_id": track_id, "summary": {}, "notes": [], "updated_at": None}
    }


def test_views_read_inside_an_observer(project: ProjectDocument) -> None:
    seen: list[dict[str, Any]] = []
    project.roots.tracks.observe_deep(lambda _events: seen.append(to_json(project)))
    track_id = project.add_track("x")
    assert [t["id"] for t in seen[0]["tracks"]] == [track_id]

"""MIDI over HTTP: a .mid imported as MIDI tracks, heard in the mix, exported back."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mido  # type: ignore[import-untyped]
import pytest

from jacameno.audio_services.midi_files import read_midi_file
from tests.api.test_ai_jobs import post_job
from tests.api.test_uploads import JOBS, document_of, wait_job
from tests.support.api_client import Account, ApiClient

CHORD = [(60, 0), (64, 480), (67, 960)]  # C4, E4, G4 a beat apart, each a beat long


def song_mid() -> bytes:
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    meta = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100), time=0),
            mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        ]
    )
    piano = mido.MidiTrack(
        [mido.MetaMessage("track_name", name="Piano"), mido.Message("program_change", program=0)]
    )
    now = 0
    for pitch, tick in CHORD:
        piano.append(mido.Message("note_on", note=pitch, velocity=90, time=tick - now))
        piano.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
        now = tick + 480
    bass = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="Bass"),
            mido.Message("program_change", channel=1, program=33),
            mido.Message("note_on", channel=1, note=36, velocity=100, time=0),
            mido.Message("note_off", channel=1, note=36, velocity=0, time=1440),
        ]
    )
    midi.tracks.extend([meta, piano, bass])
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


async def import_mid(api: ApiClient, account: Account, project_id: str, data: bytes) -> Any:
    return await api.call(
        "POST",
        f"/api/v1/projects/{project_id}/midi",
        account.access_token,
        files={"file": ("song.mid", data, "audio/midi")},
    )


async def test_import_hear_and_export_midi(start_api: Callable[..., Any], tmp_path: Path) -> None:
    async with start_api(**JOBS) as (server, api):
        owner, viewer = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, viewer, "viewer")
        assert (await import_mid(api, viewer, project_id, song_mid())).status_code == 403
        assert (await import_mid(api, owner, project_id, b"MThd junk")).status_code == 422

        answer = await import_mid(api, owner, project_id, song_mid())
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert [(t["name"], t["instrument"], t["notes"]) for t in body["tracks"]] == [
            ("Piano", 0, 3),
            ("Bass", 33, 1),
        ]
        project = await document_of(server, owner, project_id)
        assert (project.get_meta().bpm, project.get_meta().time_signature) == (100.0, "3/4")
        piano = project.get_track(body["tracks"][0]["track_id"])
        assert piano.kind.value == "midi"
        [clip] = piano.midi_clips
        assert [(n.pitch, n.start_beats, n.length_beats) for n in clip.notes] == [
            (60, 0.0, 1.0),
            (64, 1.0, 1.0),
            (67, 2.0, 1.0),
        ]

        mixing = await post_job(api, owner, "mixing", project_id=project_id)
        job = await wait_job(server, owner, project_id, mixing["id"])
        assert job.status.value == "done", job.error
        render = await api.call(
            "GET", f"/api/v1/assets/{job.result['render_asset_id']}", owner.access_token
        )
        # Three beats at 100 bpm (1.8 s) plus the instrument's release (1 s).
        assert render.json()["duration_s"] == pytest.approx(2.8, abs=0.01)

        exported = await api.call(
            "POST",
            f"/api/v1/projects/{project_id}/exports",
            owner.access_token,
            json={"format": "midi"},
        )
        assert exported.status_code == 202, exported.text
        job = await wait_job(server, owner, project_id, exported.json()["id"])
        assert job.status.value == "done", job.error
        content = await api.call(
            "GET", f"/api/v1/assets/{job.result['export_asset_id']}/content", owner.access_token
        )
        path = tmp_path / "back.mid"
        path.write_bytes(content.content)
        back = read_midi_file(path)
        assert back.bpm == pytest.approx(100.0)
        assert [(p.name, p.instrument, len(p.notes)) for p in back.parts] == [
            ("Piano", 0, 3),
            ("Bass", 33, 1),
        ]
        assert [n["pitch"] for n in back.parts[0].notes] == [60, 64, 67]


async def test_the_browser_gets_the_servers_soundfont(api: ApiClient) -> None:
    answer = await api.http.get("/api/v1/soundfont")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "audio/x-soundfont"
    assert answer.content[:4] == b"RIFF"
    assert answer.content[8:12] == b"sfbk"
    again = await api.http.get(
        "/api/v1/soundfont", headers={"if-none-match": answer.headers["etag"]}
    )
    assert again.status_code == 304

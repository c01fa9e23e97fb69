"""Lyrics over HTTP, GraphQL and the document: suggestions written for every peer,
feedback remembered, rights, analysis as people type, ``lyrics`` jobs, melody fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pycrdt

from jacameno.audio_services.lyrics.phonetics import rhymes_perfectly
from jacameno.audio_services.memory.embedder import WordLlamaEmbedder
from jacameno.audio_services.memory.store import StyleMemory
from jacameno.collab.client import CollabClient, collab_url
from jacameno.docs_model import ProjectDocument
from tests.api.test_ai_jobs import post_job, uploaded, wav
from tests.api.test_uploads import JOBS, WAIT_S, document_of, wait_job
from tests.support.api_client import DEFAULT_PASSWORD, Account, ApiClient
from tests.support.app_server import RunningServer
from tests.support.fake_openai import API_KEY, MODEL, FakeOpenAI, error_answer, lines_answer

FAST = {**JOBS, "lyrics_analysis_delay_s": 0.05}


async def suggest(api: ApiClient, account: Account, **body: Any) -> Any:
    response = await api.call("POST", "/api/v1/ai/lyrics", account.access_token, json=body)
    assert response.status_code == 200, response.text
    return response.json()["lyrics"]


async def test_a_suggestion_answers_and_lands_in_the_document(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**FAST) as (server, api):
        owner, viewer = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, viewer, "viewer")

        lyrics = await suggest(
            api, owner, project_id=project_id, theme="night train", rhyme_scheme="AABB", seed=3
        )

        assert lyrics["source"] == "offline"
        assert lyrics["rhyme_scheme"] == "AABB"
        assert len(lyrics["lines"]) == 4
        assert lyrics["syllables"] == [8, 8, 8, 8]
        first, second = (line.split()[-1] for line in lyrics["lines"][:2])
        assert rhymes_perfectly(first, second)
        [entry] = (await document_of(server, viewer, project_id)).lyrics_suggestions()
        assert entry["id"] == lyrics["id"]
        assert entry["lines"] == lyrics["lines"]
        assert entry["requested_by"] == f"user:{owner.user_id}"
        assert entry["verdict"] is None

        denied = await api.call(
            "POST",
            "/api/v1/ai/lyrics",
            viewer.access_token,
            json={"project_id": project_id, "theme": "x"},
        )
        assert denied.status_code == 403
        for bad in ({"rhyme_scheme": "aabb"}, {"lines": 99}, {"syllables": [0]}, {"extra": 1}):
            response = await api.call(
                "POST",
                "/api/v1/ai/lyrics",
                owner.access_token,
                json={"project_id": project_id, "theme": "x", **bad},
            )
            assert response.status_code == 422, bad
        unknown_track = await api.call(
            "POST",
            "/api/v1/ai/lyrics",
            owner.access_token,
            json={"project_id": project_id, "theme": "x", "fit_to_track": "nope"},
        )
        assert unknown_track.status_code == 422
        assert "not in the project" in unknown_track.json()["error"]["message"]


async def test_lines_repeat_the_scheme_and_graphql_answers_the_same(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**FAST) as (_server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        rest = await suggest(
            api,
            owner,
            project_id=project_id,
            theme="harbour",
            rhyme_scheme="AB",
            lines=6,
            syllables=[6, 7, 6, 7, 6, 7],
            seed=9,
        )
        assert rest["rhyme_scheme"] == "ABABAB"
        assert rest["syllables"] == [6, 7, 6, 7, 6, 7]
        query = (
            'mutation($p: ID!) { generateLyrics(projectId: $p, prompt: "harbour",'
            ' rhymeScheme: "AB", lines: 6, syllables: [6, 7, 6, 7, 6, 7], seed: 9)'
            " { id lines rhymeScheme source syllables } }"
        )
        answer = await api.call(
            "POST",
            "/graphql",
            owner.access_token,
            json={"query": query, "variables": {"p": project_id}},
        )
        graphql = answer.json()["data"]["generateLyrics"]
        assert graphql["lines"] == rest["lines"]
        assert graphql["rhymeScheme"] == "ABABAB"
        assert graphql["id"] != rest["id"]


async def test_feedback_is_remembered_and_can_be_forgotten(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**FAST) as (server, api):
        owner, editor = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, editor, "editor")
        lyrics = await suggest(api, owner, project_id=project_id, theme="desert rain", seed=1)

        async def feedback(account: Account, **body: Any) -> Any:
            return await api.call(
                "POST",
                "/api/v1/ai/lyrics/feedback",
                account.access_token,
                json={"project_id": project_id, "suggestion_id": lyrics["id"], **body},
            )

        before = (await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()
        assert before["items"] == []
        assert before["embedding_model"]["dimensions"] == 256
        assert (await feedback(owner, verdict="accepted")).status_code == 200
        assert (await feedback(owner, verdict="maybe")).status_code == 422
        missing = await api.call(
            "POST",
            "/api/v1/ai/lyrics/feedback",
            owner.access_token,
            json={"project_id": project_id, "suggestion_id": "gone", "verdict": "rejected"},
        )
        assert missing.status_code == 404

        [entry] = (await document_of(server, owner, project_id)).lyrics_suggestions()
        assert entry["verdict"] == "accepted"
        memory = (await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()
        assert sorted(item["text"] for item in memory["items"]) == sorted(lyrics["lines"])
        assert {item["verdict"] for item in memory["items"]} == {"accepted"}
        assert memory["style_version"] != before["style_version"]
        # Another writer's memory is theirs alone.
        assert (await api.call("GET", "/api/v1/me/memory", editor.access_token)).json()[
            "items"
        ] == []

        one = memory["items"][0]["id"]
        gone = await api.call("DELETE", f"/api/v1/me/memory/{one}", owner.access_token)
        assert gone.status_code == 204
        again = await api.call("DELETE", f"/api/v1/me/memory/{one}", owner.access_token)
        assert again.status_code == 404
        assert (
            await api.call("DELETE", "/api/v1/me/memory", owner.access_token)
        ).status_code == 204
        assert (await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()[
            "items"
        ] == []
        key = await api.api_key(owner, project_id, "editor")
        assert (await api.call("GET", "/api/v1/me/memory", key)).status_code == 403


async def test_deleting_an_account_deletes_its_memory_and_projects(
    start_api: Callable[..., Any], tmp_path: Path
) -> None:
    async with start_api(**FAST) as (_server, api):
        owner, friend = await api.signup(), await api.signup()
        alone = await api.create_project(owner, "Mine")
        shared = await api.create_project(friend, "Theirs")
        await api.add_member(friend, shared, owner, "editor")
        lyrics = await suggest(api, owner, project_id=shared, theme="lighthouse")
        accepted = await api.call(
            "POST",
            "/api/v1/ai/lyrics/feedback",
            owner.access_token,
            json={"project_id": shared, "suggestion_id": lyrics["id"], "verdict": "accepted"},
        )
        assert accepted.status_code == 200
        assert (
            len((await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()["items"])
            == 4
        )

        wrong = await api.call(
            "DELETE", "/api/v1/me", owner.access_token, json={"password": "x" * 12}
        )
        assert wrong.status_code == 401
        deleted = await api.call(
            "DELETE", "/api/v1/me", owner.access_token, json={"password": DEFAULT_PASSWORD}
        )
        assert deleted.status_code == 204

        assert (await api.call("GET", "/api/v1/me", owner.access_token)).status_code == 401
        assert (
            await api.call("GET", f"/api/v1/projects/{alone}", friend.access_token)
        ).status_code in (403, 404)
        assert (
            await api.call("GET", f"/api/v1/projects/{shared}", friend.access_token)
        ).status_code == 200
        again = await api.signup(email=owner.email)
        assert (await api.call("GET", "/api/v1/me/memory", again.access_token)).json()[
            "items"
        ] == []
    # The vectors themselves are gone from the store, not just hidden from the API.
    async with StyleMemory(str(tmp_path / "var" / "memory"), WordLlamaEmbedder()) as memory:
        assert await memory.items(owner.user_id) == []
        assert await memory.nearest(owner.user_id, "lighthouse") == []


async def test_analysis_follows_typing(start_api: Callable[..., Any]) -> None:
    async with start_api(**FAST) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        url = collab_url(server.base_url, project_id)
        async with CollabClient(url, token=owner.access_token) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
                text = peer.doc.get("lyrics", type=pycrdt.Text)
                text.insert(0, "[Verse]\nI walk the road tonight\nI feel the burning light\n")

                def analysis() -> Any:
                    return ProjectDocument(peer.doc).lyrics_analysis()

                await peer.wait_for(lambda: analysis() is not None)
                [section] = analysis()["sections"]
                assert section["label"] == "Verse"
                assert section["rhyme_scheme"] == "AA"
                assert [line["line_number"] for line in section["lines"]] == [1, 2]
                assert [line["syllables"] for line in section["lines"]] == [6, 6]

                text.insert(len(str(text)), "\nmy heart is cold\n")
                await peer.wait_for(lambda: len(analysis()["sections"]) == 2)
                assert analysis()["sections"][1]["lines"][0]["text"] == "my heart is cold"
        # What the writer typed is theirs in the AI memory (reported after the analysis
        # that first saw it, so before the second one).
        memory = (await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()
        written = {item["text"] for item in memory["items"] if item["verdict"] == "written"}
        assert {"I walk the road tonight", "I feel the burning light"} <= written


async def test_a_lyrics_job_written_by_a_peer_runs(start_api: Callable[..., Any]) -> None:
    async with start_api(**FAST) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        url = collab_url(server.base_url, project_id)
        async with CollabClient(url, token=owner.access_token) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
                project = ProjectDocument(peer.doc)
                job_id = project.request_job(
                    "lyrics", {"theme": "winter coats", "rhyme_scheme": "ABAB", "seed": 2}, ""
                )
                bad_id = project.request_job("lyrics", {"theme": "x", "rhyme_scheme": 7}, "")
                await peer.wait_for(
                    lambda: all(project.get_job(j).status.is_final for j in (job_id, bad_id))
                )
                done = project.get_job(job_id)
                assert done.status.value == "done", done.error
                assert project.get_job(bad_id).status.value == "failed"
                assert "rhyme_scheme" in (project.get_job(bad_id).error or "")
                await peer.wait_for(lambda: bool(project.lyrics_suggestions()))
                [entry] = project.lyrics_suggestions()
                assert entry["id"] == job_id
                assert len(entry["lines"]) == 4
                assert entry["requested_by"] == f"user:{owner.user_id}"


def phrases_vocal(counts: tuple[int, ...], sample_rate: int = 44_100) -> bytes:
    """A voice-like tone singing phrases of ``counts`` notes (0.3 s each, 0.7 s rests)."""
    pieces: list[np.ndarray[Any, Any]] = []
    pitches = [57, 60, 62, 64, 65, 67, 69, 71]
    for phrase, count in enumerate(counts):
        for index in range(count):
            midi = pitches[(index + phrase) % len(pitches)]
            t = np.arange(int(0.3 * sample_rate)) / sample_rate
            phase = 2 * np.pi * 440.0 * 2 ** ((midi - 69) / 12) * t
            envelope = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
            pieces.append(sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2 * envelope)
        pieces.append(np.zeros(int(0.7 * sample_rate)))
    return wav(np.concatenate(pieces)[:, None], sample_rate)


async def coached_vocal(
    server: RunningServer, api: ApiClient, owner: Account, project_id: str, counts: tuple[int, ...]
) -> str:
    tracks = await uploaded(server, api, owner, project_id, Vocal=(phrases_vocal(counts), "vocal"))
    track_id: str = tracks["Vocal"]["track_id"]
    coaching = await post_job(api, owner, "coaching", project_id=project_id, track_id=track_id)
    job = await wait_job(server, owner, project_id, coaching["id"])
    assert job.status.value == "done", job.error
    return track_id


async def test_suggestions_fit_the_coached_melody(start_api: Callable[..., Any]) -> None:
    async with start_api(**FAST) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        uncoached = (
            await uploaded(server, api, owner, project_id, Guide=(phrases_vocal((3,)), "vocal"))
        )["Guide"]["track_id"]
        refused = await api.call(
            "POST",
            "/api/v1/ai/lyrics",
            owner.access_token,
            json={"project_id": project_id, "theme": "x", "fit_to_track": uncoached},
        )
        assert refused.status_code == 422
        assert "coached" in refused.json()["error"]["message"]

        track_id = await coached_vocal(server, api, owner, project_id, (5, 7, 6, 8))
        lyrics = await suggest(
            api, owner, project_id=project_id, theme="paper boats", fit_to_track=track_id
        )
        assert lyrics["syllables"] == [5, 7, 6, 8]
        assert len(lyrics["lines"]) == 4


async def test_memory_on_s3_outlives_the_instance(
    start_api: Callable[..., Any], s3_settings: dict[str, Any]
) -> None:
    shared = {**FAST, **s3_settings, "lancedb_uri": f"{s3_settings['storage_url']}/memory"}
    async with start_api(**shared) as (_server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        lyrics = await suggest(api, owner, project_id=project_id, theme="tin roof rain")
        accepted = await api.call(
            "POST",
            "/api/v1/ai/lyrics/feedback",
            owner.access_token,
            json={"project_id": project_id, "suggestion_id": lyrics["id"], "verdict": "accepted"},
        )
        assert accepted.status_code == 200
    # Another instance (a new process, the same S3 bucket) knows the writer's style.
    async with start_api(**shared) as (_server, api):
        memory = (await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()
        assert sorted(item["text"] for item in memory["items"]) == sorted(lyrics["lines"])


async def test_openai_writes_falls_back_and_is_cached(
    start_api: Callable[..., Any], fake_openai: FakeOpenAI, redis_url: str
) -> None:
    settings = {
        **FAST,
        "openai_api_key": API_KEY,
        "openai_base_url": fake_openai.base_url,
        "openai_model": MODEL,
        "openai_max_retries": 0,
        "openai_stream": True,
        "redis_url": redis_url,
    }
    lines = [
        "the kettle sings at nine",
        "the window holds the light",
        "I draw a crooked line",
        "and wait for you tonight",
    ]
    async with start_api(**settings) as (_server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        fake_openai.script(lines_answer(lines))
        first = await suggest(
            api, owner, project_id=project_id, theme="kitchen", rhyme_scheme="ABAB"
        )
        assert (first["source"], first["lines"]) == ("openai", lines)
        sent = fake_openai.requests[0]
        assert (sent["model"], sent["stream"]) == (MODEL, True)
        assert "kitchen" in sent["messages"][1]["content"]

        again = await suggest(
            api, owner, project_id=project_id, theme="kitchen", rhyme_scheme="ABAB"
        )
        assert again["lines"] == lines
        assert again["id"] != first["id"]
        assert len(fake_openai.requests) == 1  # answered from the Redis cache

        fake_openai.script(error_answer(500))
        fallback = await suggest(
            api, owner, project_id=project_id, theme="attic", rhyme_scheme="AABB"
        )
        assert fallback["source"] == "offline"
        assert any("openai" in note for note in fallback["notes"])
        assert len(fallback["lines"]) == 4

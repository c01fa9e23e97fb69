"""A real yjs (13.x) client reads what docs_model writes, and the other way round."""

from __future__ import annotations

import base64
import json
import subprocess
from typing import Any

import pytest
from pycrdt import Doc

from jacameno.docs_model import ProjectDocument, generate_key_between, migrate, to_json, validate
from tests.conftest import service_missing
from tests.support.node_peer import NODE_MODULES, node_unavailable_reason

pytestmark = pytest.mark.node

# A browser client that knows the schema from docs/schema.md but not docs_model: it writes
# integers (yjs encodes them as varints), edits lyrics at UTF-16 positions and appends
# a comment; then it reports what it sees.
CLIENT_SCRIPT = """
import * as Y from %(yjs)s;
let data = "";
for await (const chunk of process.stdin) data += chunk;
const input = JSON.parse(data);
const doc = new Y.Doc();
Y.applyUpdate(doc, Buffer.from(input.update, "base64"));
const seen = {
  tracks: doc.getMap("tracks").toJSON(),
  lyrics: doc.getText("lyrics").toString(),
  meta: doc.getMap("meta").toJSON(),
  jobs: doc.getMap("jobs").toJSON(),
};
const before = Y.encodeStateVector(doc);
doc.transact(() => {
  const clips = new Y.Map();
  clips.set("jsclip", new Y.Map([["asset_id", "js-asset"], ["start_s", 2], ["duration_s", 3]]));
  doc.getMap("tracks").set("jstrack", new Y.Map([
    ["name", "From JS"], ["kind", "vocal"], ["order", input.order],
    ["volume_db", -3], ["pan", 0], ["mute", false], ["solo", false],
    ["clips", clips], ["effects", new Y.Array()],
  ]));
  const text = doc.getText("lyrics");
  text.insert(text.toString().indexOf("world"), "big ");  // UTF-16 index after an emoji
  doc.getArray("comments").push([new Y.Map([
    ["id", "jscomment"], ["author", "js"], ["text", "hi"], ["time_s", 4],
    ["created_at", 1700000000],
  ])]);
  doc.getMap("jobs").set("jsjob", new Y.Map([
    ["kind", "lyrics"], ["status", "queued"], ["progress", 0], ["params", {theme: "rain"}],
    ["requested_by", "js"], ["created_at", 1700000000], ["updated_at", 1700000000],
  ]));
});
const update = Buffer.from(Y.encodeStateAsUpdate(doc, before)).toString("base64");
process.stdout.write(JSON.stringify({ seen, update }));
"""


def run_client(update: bytes, order: str) -> dict[str, Any]:
    reason = node_unavailable_reason()
    if reason is not None:
        service_missing(reason)
    yjs = json.dumps((NODE_MODULES / "yjs" / "dist" / "yjs.mjs").as_uri())
    message = json.dumps({"update": base64.b64encode(update).decode(), "order": order})
    completed = subprocess.run(
        ["node", "--input-type=module", "-e", CLIENT_SCRIPT % {"yjs": yjs}],
        input=message,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_yjs_client_and_docs_model_understand_each_other(project: ProjectDocument) -> None:
    track_id = project.add_track("Drums", volume_db=-1.5)
    project.add_clip(track_id, "asset-1", start_s=0.5, duration_s=4)
    project.set_effects(track_id, [{"plugin": "eq", "params": {"low_db": -2}}])
    project.set_lyrics_text("hello 🎤 world")
    project.request_job("mixing", {"preset": "warm"}, "py")

    last_order = project.get_track(track_id).order
    result = run_client(project.doc.get_update(), generate_key_between(last_order, None))

    seen = result["seen"]
    assert seen["lyrics"] == "hello 🎤 world"
    assert seen["meta"]["schema_version"] == 1
    assert seen["tracks"][track_id]["volume_db"] == -1.5
    assert seen["tracks"][track_id]["effects"] == [{"plugin": "eq", "params": {"low_db": -2}}]
    assert [clip["duration_s"] for clip in seen["tracks"][track_id]["clips"].values()] == [4]

    project.doc.apply_update(base64.b64decode(result["update"]))
    assert validate(project) == []
    assert project.lyrics_text() == "hello 🎤 big world"
    js_track = project.get_track("jstrack")
    assert (js_track.name, js_track.volume_db, js_track.order) == ("From JS", -3.0, "a1")
    assert [(c.id, c.start_s, c.duration_s) for c in js_track.clips] == [("jsclip", 2.0, 3.0)]
    assert [t.id for t in project.tracks_in_order()] == [track_id, "jstrack"]
    job = project.get_job("jsjob")
    assert (job.params, job.progress) == ({"theme": "rain"}, 0.0)
    assert [c.id for c in project.list_comments()] == ["jscomment"]
    # The service side works on what the browser queued.
    project.mark_running("jsjob", origin="lyrics-service")
    fresh: Doc[Any] = Doc()
    fresh.apply_update(project.doc.get_update())
    assert migrate(fresh) == (1, 1)
    assert to_json(fresh) == to_json(project)

"""Audio through the browser: an upload every peer sees with its analysis; a mix and a master."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory
from tests.browser.studio import (
    JOB_TIMEOUT_MS,
    PEER_TIMEOUT_MS,
    clips_of,
    open_studio,
    tab,
    track_header,
)
from tests.browser.support import Api, screenshots, sine_wav

#: The client writes negative figures with U+2212 MINUS SIGN (studio/figures.ts).
MINUS = "\u2212"
NUMBER = rf"[{MINUS}-]?\d+(\.\d+)?"


def test_an_upload_reaches_the_other_peer_with_its_analysis(
    new_context: ContextFactory, api: Api
) -> None:
    alice, bob, project = api.shared_project("Uploads", bpm=110)

    a = open_studio(new_context(alice), project["id"])
    b = open_studio(new_context(bob), project["id"])

    a.get_by_label("Upload audio files").set_input_files(
        {"name": "Warm_pad.wav", "mimeType": "audio/wav", "buffer": sine_wav(2.0, 330.0)}
    )
    uploads = a.get_by_role("list", name="Uploads")
    expect(uploads.get_by_text("uploaded", exact=True)).to_be_visible(timeout=30_000)

    # Bob sees the new track and its clip; then the analysis figures, on both screens.
    expect(track_header(b, "Warm pad")).to_be_visible(timeout=PEER_TIMEOUT_MS)
    expect(clips_of(b, "Warm pad")).to_have_count(1)
    for page in (a, b):
        expect(track_header(page, "Warm pad")).to_contain_text(
            re.compile(rf"{NUMBER} LUFS"), timeout=JOB_TIMEOUT_MS
        )
    expect(track_header(b, "Warm pad").get_by_role("progressbar")).to_have_count(0)
    screenshots(b, "studio-after-upload")

    doc = api.document(bob, project["id"])["document"]
    (track,) = doc["tracks"]
    assert track["name"] == "Warm pad"
    assert track["asset_id"]
    analyses = [j for j in doc["jobs"] if j["kind"] == "analysis"]
    assert [j["status"] for j in analyses] == ["done"]


def test_mix_then_master_shows_loudness_true_peak_and_range(
    new_context: ContextFactory, api: Api
) -> None:
    alice = api.signup("alice", "Alice")
    project = api.create_project(alice, "Master me")
    api.upload_wav(alice, project["id"], "Lead", sine_wav(3.0, 440.0))
    api.upload_wav(alice, project["id"], "Bass", sine_wav(3.0, 110.0))

    page = open_studio(new_context(alice), project["id"])
    panel = tab(page, "Mix & master")
    jobs = panel.get_by_role("region", name="Jobs")

    mix_form = panel.get_by_role("form", name="Mix")
    mix_form.get_by_label("Mix preset").select_option("acoustic")
    mix_form.get_by_role("button", name="Mix", exact=True).click()
    mix_job = jobs.get_by_role("listitem").filter(has=page.get_by_text("Mix", exact=True))
    expect(mix_job).to_contain_text("Done", timeout=JOB_TIMEOUT_MS)
    expect(mix_job.get_by_role("definition").first).to_be_visible()

    master_form = panel.get_by_role("form", name="Master")
    master_form.get_by_label("Mastering preset").select_option("Streaming")
    expect(master_form.get_by_label("Target loudness (LUFS)")).to_have_value("-14")
    master_button = master_form.get_by_role("button", name="Master", exact=True)
    expect(master_button).to_be_enabled()
    master_button.click()
    master_job = jobs.get_by_role("listitem").filter(has=page.get_by_text("Master", exact=True))
    expect(master_job).to_contain_text("Done", timeout=JOB_TIMEOUT_MS)

    terms = master_job.get_by_role("term")
    values = master_job.get_by_role("definition")
    expect(terms.nth(0)).to_have_text("Loudness")
    expect(values.nth(0)).to_have_text(re.compile(rf"^{NUMBER} LUFS \(target {MINUS}14\.0\)$"))
    expect(terms.nth(1)).to_have_text("True peak")
    expect(values.nth(1)).to_have_text(re.compile(rf"^{NUMBER} dBTP \(ceiling {MINUS}1\.0\)$"))
    expect(terms.nth(2)).to_have_text("Loudness range")
    expect(values.nth(2)).to_have_text(re.compile(rf"^{NUMBER} LU$"))
    master_job.scroll_into_view_if_needed()
    screenshots(page, "studio-master")

    mix = api.document(alice, project["id"])["document"]["mix"]
    assert mix["master_asset_id"]
    assert mix["master_loudness_lufs"] is not None

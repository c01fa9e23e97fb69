"""MIDI clips: notes keyed by id, so two people editing one clip merge."""

from __future__ import annotations

import pytest
from pycrdt import Doc

from jacameno.docs_model import InvalidValueError, ProjectDocument, validate
from jacameno.docs_model.errors import UnknownNoteError


def synced(source: ProjectDocument) -> ProjectDocument:
    copy = ProjectDocument(Doc())
    copy.doc.apply_update(source.doc.get_update())
    return copy


def test_two_peers_edit_one_clip_and_both_edits_survive() -> None:
    ana = ProjectDocument()
    ana.initialise()
    track = ana.add_track("Keys", "midi", instrument=0)
    clip = ana.add_midi_clip(track, start_s=2.0, duration_s=8.0)
    c4 = ana.add_note(track, clip, pitch=60, start_beats=0.0, length_beats=1.0)
    ben = synced(ana)

    ana.update_note(track, clip, c4, start_beats=0.5)  # Ana moves the note
    ben.update_note(track, clip, c4, length_beats=2.0)  # Ben lengthens it
    e4 = ben.add_note(track, clip, pitch=64, start_beats=1.0, length_beats=1.0, velocity=80)
    ana.doc.apply_update(ben.doc.get_update())
    ben.doc.apply_update(ana.doc.get_update())

    for peer in (ana, ben):
        [midi] = peer.get_track(track).midi_clips
        notes = {note.id: note for note in midi.notes}
        assert (notes[c4].start_beats, notes[c4].length_beats) == (0.5, 2.0)
        assert (notes[e4].pitch, notes[e4].velocity) == (64, 80)
        assert [note.id for note in midi.notes] == [c4, e4]  # by start
    assert validate(ana) == []


def test_notes_are_checked() -> None:
    project = ProjectDocument()
    track = project.add_track("Keys", "midi")
    clip = project.add_midi_clip(track, start_s=0.0, duration_s=1.0)
    for bad in ({"pitch": 128}, {"pitch": 60.5}, {"length_beats": 0.0}, {"velocity": 0}):
        fields = {"pitch": 60, "start_beats": 0.0, "length_beats": 1.0, **bad}
        with pytest.raises(InvalidValueError):
            project.add_note(track, clip, **fields)  # type: ignore[arg-type]
    with pytest.raises(UnknownNoteError):
        project.remove_note(track, clip, "nope")
    with pytest.raises(InvalidValueError):
        project.update_track(track, instrument=200)

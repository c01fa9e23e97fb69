"""DAWproject 1.0 export and import: the open interchange format of Bitwig Studio,
Studio One, Cubase and others (a zip of ``project.xml``, ``metadata.xml`` and audio;
schemas and reference at github.com/bitwig/dawproject).

`export_dawproject` writes a document's `to_json` view and its audio;
`import_dawproject` reads a file, whatever wrote it, into an `ImportedProject`, and
`apply_import` writes that into an empty document.

How the document maps (export, and back on import):

- Times are seconds (``timeUnit="seconds"``), written as the shortest text that reads
  back to the same float, so clips and points land where they are. Imports also read
  beats, at the project's tempo (tempo changes are not followed; a warning says so).
- Track volume is a linear gain (``unit="linear"``, 1.0 = 0 dB, as Bitwig writes
  it), pan is normalized (0 left, 0.5 centre, 1 right); imports also read decibel
  volume and any pan whose range the file gives.
- A clip is a ``<Clip>`` of an ``<Audio>`` file: ``time``/``duration`` place it,
  ``playStart`` is its offset in the file; a looped clip is one clip whose loop region
  is its region (``loopStart``/``loopEnd``), so DAWs show a looped clip and its fades
  span all its loops, as JACAMENO plays them. Fade lengths carry over; fade curves do
  not (DAWproject has none: DAWs use their own).
- Clip gain, which DAWproject 1.0 lacks, is a one-point ``gain`` envelope beside the
  audio (as Bitwig and DawVert write it).
- Volume and pan automation are ``<Points>`` on the channel's parameters; ``hold``
  stays hold, ``linear`` and ``smooth`` become linear (DAWproject has no ease).
- A MIDI track is a ``contentType="notes"`` track; each MIDI clip is a ``<Clip>``
  placed in seconds whose ``<Notes>`` count beats from the clip's start
  (``contentTimeUnit="beats"``), so notes keep their beats exactly. A ``<Note>`` has
  ``key`` (the pitch), ``vel`` (velocity / 127, normalized as Bitwig writes it; ``rel``
  the same), ``channel="0"``. Imports read notes however nested (clips of clips, alias
  clips, loops) in beats or seconds (converted at the project's tempo): each clip on a
  track that plays notes becomes one MIDI clip, and a track with notes a MIDI track.
  At most 200,000 notes an import (`notes.MAX_NOTES`); more refuses the file.
- The General MIDI program of a MIDI track has no place in DAWproject (it names
  instruments as plug-in devices): other DAWs see a notes track without an instrument
  device. It travels in ``jacameno.json`` with the track kinds and the key, which
  DAWproject cannot hold either; other DAWs ignore that file. Other DAWs' files import
  as audio tracks, or MIDI tracks playing program 0 (the piano) for notes tracks.
- Not carried over: effects and plug-ins, sends, groups (imported flat), the clip
  launcher, time-stretching (audio plays at its own speed), release velocity, MIDI
  channels and per-note expressions, lyrics, comments, coaching and mix settings. A
  clipless track's asset exports as one clip from 0 s.
"""

from .apply import apply_import
from .archive import DEFAULT_MAX_MEMBERS, DEFAULT_MAX_TOTAL_BYTES
from .errors import DawProjectError
from .export import APPLICATION_NAME, APPLICATION_VERSION, DAWPROJECT_VERSION, export_dawproject
from .model import (
    ImportedClip,
    ImportedMeta,
    ImportedMidiClip,
    ImportedNote,
    ImportedProject,
    ImportedTrack,
)
from .notes import MAX_NOTES
from .reader import import_dawproject, read_project

__all__ = [
    "APPLICATION_NAME",
    "APPLICATION_VERSION",
    "DAWPROJECT_VERSION",
    "DEFAULT_MAX_MEMBERS",
    "DEFAULT_MAX_TOTAL_BYTES",
    "MAX_NOTES",
    "DawProjectError",
    "ImportedClip",
    "ImportedMeta",
    "ImportedMidiClip",
    "ImportedNote",
    "ImportedProject",
    "ImportedTrack",
    "apply_import",
    "export_dawproject",
    "import_dawproject",
    "read_project",
]

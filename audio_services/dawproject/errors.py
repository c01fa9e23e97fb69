"""The DAWproject package's error: one class, under the audio services' root.

- :class:`~jacameno.audio_services.errors.AudioError`
  - :class:`DawProjectError`: an export or import failed, with a message that says why
    (a hostile or broken archive, XML that is not DAWproject, a missing asset, ...).
"""

from __future__ import annotations

from jacameno.audio_services.errors import AudioError

__all__ = ["DawProjectError"]


class DawProjectError(AudioError):
    """A DAWproject file could not be written or read; the message says why."""

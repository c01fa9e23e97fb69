"""The audio services' exception tree.

- :class:`AudioError`: root of every error raised by ``audio_services``.
  - :class:`AudioDecodeError`: a file is not audio we can decode (corrupt, empty, wrong type).
  - :class:`AudioLimitError`: audio exceeds a configured limit (duration, size, channels).
  - :class:`InvalidEffectChainError`: an effect chain names an unknown plugin or a bad parameter.
  - :class:`AudioProcessingError`: processing failed on valid input (e.g. a target cannot be met).
"""

from __future__ import annotations


class AudioError(Exception):
    """Root of every error raised by ``audio_services``."""


class AudioDecodeError(AudioError):
    """The input is not decodable audio (corrupt, truncated, empty or not audio at all)."""


class AudioLimitError(AudioError):
    """The input exceeds a limit: too long, too many channels, unsupported sample rate."""


class InvalidEffectChainError(AudioError):
    """An effect chain names an unknown plugin or gives a parameter outside its schema."""


class AudioProcessingError(AudioError):
    """Processing valid input failed (for example a loudness target that cannot be met)."""

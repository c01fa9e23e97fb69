"""Find the gain into the true-peak limiter that gives a target loudness.

Each step builds the limiter curve for a candidate gain and *predicts* the
result's integrated loudness with :class:`GainLoudnessModel` (tens of ms)
instead of rendering and metering it; a secant search on loudness against
gain (slope at most 1 under limiting) converges in a few steps. The true-peak
envelope is computed once: the limiter's input is a fixed signal times the
gain, and true peaks scale linearly with gain.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from audio_services.limiter import DEFAULT_LOOKAHEAD_MS, DEFAULT_RELEASE_MS, limiter_gain
from audio_services.loudness_model import GainLoudnessModel
from audio_services.metering import db_to_amplitude
from audio_services.true_peak import true_peak_envelope

FloatArray = npt.NDArray[np.float32]

# The limiter aims this far under the ceiling; callers verify and trim the rest.
LIMITER_MARGIN_DB = 0.02
# The search stops once the predicted loudness is this close (LU).
_PREDICTION_TOLERANCE_LU = 0.02
_MAX_PREDICTIONS = 12
# The gain into the limiter stays within this range (dB).
_MAX_SEARCH_GAIN_DB = 30.0
# The envelope is exact for gains up to this much above the first one asked for.
_GAIN_HEADROOM_DB = 6.0


class LimiterGainSearch:
    """Limiter curves for ``shaped * gain`` under ``ceiling`` (linear), searched by loudness."""

    def __init__(
        self,
        shaped: FloatArray,
        sample_rate: int,
        ceiling: float,
        lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
        release_ms: float = DEFAULT_RELEASE_MS,
    ) -> None:
        self.shaped = shaped
        self.sample_rate = sample_rate
        self.lookahead_ms = lookahead_ms
        self.release_ms = release_ms
        self.ceiling = ceiling * db_to_amplitude(-LIMITER_MARGIN_DB)
        self.model = GainLoudnessModel(shaped, sample_rate)
        self._envelope: FloatArray | None = None
        self._envelope_gain_db = -math.inf

    def envelope(self, gain_db: float) -> FloatArray:
        """The true-peak envelope, exact wherever ``gain_db`` could reach the ceiling."""
        if self._envelope is None or gain_db > self._envelope_gain_db:
            self._envelope_gain_db = gain_db + _GAIN_HEADROOM_DB
            floor = self.ceiling * db_to_amplitude(-self._envelope_gain_db)
            self._envelope = true_peak_envelope(self.shaped, self.sample_rate, floor=floor)
        return self._envelope

    def curve(self, gain_db: float) -> FloatArray | None:
        scale = db_to_amplitude(gain_db)
        return limiter_gain(
            self.envelope(gain_db) * np.float32(scale),
            self.sample_rate,
            self.ceiling,
            self.lookahead_ms,
            self.release_ms,
        )

    def search(self, gain_db: float, target_lufs: float) -> tuple[float, FloatArray | None, float]:
        """Gain (dB), its limiter curve and predicted loudness, nearest ``target_lufs``."""
        history: list[tuple[float, float]] = []
        for _ in range(_MAX_PREDICTIONS):
            curve = self.curve(gain_db)
            predicted = self.model.predict_lufs(curve, db_to_amplitude(gain_db))
            history.append((gain_db, predicted))
            close = abs(target_lufs - predicted) <= _PREDICTION_TOLERANCE_LU
            if close or not math.isfinite(predicted):
                break
            gain_db = _next_gain_db(history, target_lufs)
        return history[-1][0], curve, predicted


def _next_gain_db(history: list[tuple[float, float]], target_lufs: float) -> float:
    """Secant step on loudness against gain; limiting makes the slope at most 1."""
    gain_db, lufs = history[-1]
    slope = 1.0
    if len(history) > 1:
        previous_gain_db, previous_lufs = history[-2]
        if gain_db != previous_gain_db:
            slope = (lufs - previous_lufs) / (gain_db - previous_gain_db)
    slope = min(1.0, max(0.05, slope))
    step_db = (target_lufs - lufs) / slope
    return min(_MAX_SEARCH_GAIN_DB, max(-_MAX_SEARCH_GAIN_DB, gain_db + step_db))

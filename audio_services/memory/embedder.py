"""Sentence embeddings computed on this machine, from a model a registry package ships.

The model is WordLlama's ``l2_supercat`` at 256 dimensions: static token embeddings
(taken from a large language model's embedding table and trained for sentence
similarity), averaged per sentence. Its weights (16 MB) and tokenizer ship inside
the ``wordllama`` wheel, so nothing is downloaded at run time and no torch is
needed. Chosen over all-MiniLM-L6-v2: the registry packages of MiniLM depend on
sentence-transformers (and so torch), and a transformer forward pass per line is
two orders of magnitude slower than a table lookup on one core; for short lyric
lines and preset descriptions a static model ranks neighbours well enough.
``bench/bench_memory.py`` measures its speed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.errors import AudioError

__all__ = ["EMBEDDING_DIMENSIONS", "Embedder", "EmbeddingError", "WordLlamaEmbedder"]

#: Dimensions of every vector the default embedder writes.
EMBEDDING_DIMENSIONS = 256

Vectors = npt.NDArray[np.float32]


class EmbeddingError(AudioError):
    """The embedding model cannot be loaded (its package is missing or damaged)."""


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors (one row per text)."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: list[str]) -> Vectors: ...


class WordLlamaEmbedder:
    """:class:`Embedder` over WordLlama's bundled ``l2_supercat`` model (CPU, thread-safe).

    The model loads on first use (about 0.3 s); ``embed`` is blocking, so async
    callers run it in a worker thread.
    """

    def __init__(self, dimensions: int = EMBEDDING_DIMENSIONS) -> None:
        self._dimensions = dimensions
        self._model: object | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"wordllama-l2_supercat-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _loaded(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    import wordllama
                    from wordllama import WordLlama
                except ImportError as exc:  # pragma: no cover - a broken install
                    raise EmbeddingError(f"the wordllama package is missing: {exc}") from exc
                package = Path(wordllama.__file__).parent
                try:
                    # The wheel holds weights/ and tokenizers/: load them, never download.
                    self._model = WordLlama.load(
                        dim=self._dimensions, cache_dir=package, disable_download=True
                    )
                except (FileNotFoundError, ValueError) as exc:
                    raise EmbeddingError(f"the embedding model cannot be loaded: {exc}") from exc
            return self._model

    def embed(self, texts: list[str]) -> Vectors:
        """Unit-length vectors of ``texts``, shape ``(len(texts), dimensions)``."""
        if not texts:
            return np.zeros((0, self._dimensions), dtype=np.float32)
        model = self._loaded()
        vectors = np.asarray(model.embed(texts, norm=False), dtype=np.float32)  # type: ignore[attr-defined]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # An empty or unknown-words text embeds to zeros; keep it zero rather than NaN.
        unit: Vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return unit

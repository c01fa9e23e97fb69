"""The lyrics service: analysis of any lyrics text and suggestions that fit the song.

- :mod:`.model`: the request and suggestion types and the :class:`LyricsModel` seam.
- :mod:`.phonetics`: syllables, stress and rhymes from the CMU pronouncing dictionary.
- :mod:`.analysis`: sections, rhyme scheme, syllables, density, repeats, clichés.
- :mod:`.offline`: the offline generator (no network; the default model).
- :mod:`.openai_model`: any OpenAI-compatible server, with retries and validation.
- :mod:`.fallback`: a primary model with another taking over when it fails.
"""

"""The lyrics service: analysis of any lyrics text, suggestions that fit the song, and
rewrites of a verse in another style.

- :mod:`.model`: the request and suggestion types and the :class:`LyricsModel` seam.
- :mod:`.phonetics`: syllables, stress and rhymes from the CMU pronouncing dictionary.
- :mod:`.analysis`: sections, rhyme scheme, syllables, density, repeats, clichés.
- :mod:`.offline`: the offline generator (no network; the default model).
- :mod:`.openai_model`: any OpenAI-compatible server, with retries and validation.
- :mod:`.fallback`: a primary model with another taking over when it fails.
- :mod:`.melody_fit`: syllables per line from a coached vocal's phrases (notes per phrase).
- :mod:`.restyle`: the offline style transfer (words swapped for a style's nearest ones).
- :mod:`.styles`: the named styles' vocabularies.
- :mod:`.word_classes`: rough parts of speech of a line's words, from their neighbours.
"""

"""The lyrics service: analysis of any lyrics text and suggestions that fit the song.

- :mod:`.model`: the request and suggestion types and the :class:`LyricsModel` seam.
"""

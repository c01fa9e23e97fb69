"""AI memory: what each writer accepted, wrote and chose, as vectors, to personalise
suggestions and recommend presets.

- :mod:`.embedder`: sentence embeddings computed offline (the :class:`Embedder` seam).
- :mod:`.records`: what one memory is (kinds, verdicts, the item), the checks on ids
  and texts, and the store's errors.
- :mod:`.table`: the lancedb table: its schema, how it opens, how its errors map.
- :mod:`.store`: :class:`StyleMemory`, per-user vectors in lancedb (a local folder by
  default): remember, nearest, forget, style profile, preset recommendation.
"""

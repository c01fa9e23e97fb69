"""``GET /api/v1/soundfont``: the General MIDI SoundFont MIDI tracks are rendered with.

The browser's synthesizer loads the same file the server's FluidSynth plays
(:func:`audio_services.midi_render.find_soundfont`: ``JACAMENO_SOUNDFONT`` or Debian's
TimGM6mb), so what a musician hears while editing is what the render gives. Public
(it is Debian's free GM set, GPL-2), cached for a day, with an ETag.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from jacameno.api.errors import NotFoundError
from jacameno.audio_services.midi_render import SoundFontMissingError, find_soundfont


async def soundfont(request: Request) -> Response:
    try:
        path = find_soundfont()
    except SoundFontMissingError as exc:
        raise NotFoundError(str(exc)) from exc
    stat = path.stat()
    etag = hashlib.sha256(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:32]
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers={"etag": f'"{etag}"'})
    return FileResponse(
        path,
        media_type="audio/x-soundfont",
        filename=path.name,
        headers={"cache-control": "public, max-age=86400", "etag": f'"{etag}"'},
    )


routes = [Route("/api/v1/soundfont", soundfont, methods=["GET"])]

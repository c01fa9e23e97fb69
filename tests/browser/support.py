"""Helpers of the browser tests: the REST factories, generated audio and screenshots.

Users, projects, memberships and uploads are made through the REST API (fast, and
the same calls the client makes); the browser then opens with that user's session
already in ``localStorage`` (the client's ``jacameno.session`` entry).
"""

from __future__ import annotations

import io
import json
import math
import struct
import time
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "var" / "screenshots"
SESSION_KEY = "jacameno.session"
PASSWORD = "a long enough password"
#: The viewports every studio screenshot is taken at: a laptop and a phone.
VIEWPORTS = ((1280, 800), (390, 844))


@dataclass
class User:
    """A signed-up account and the session the REST API gave it."""

    id: str
    email: str
    name: str
    password: str
    access_token: str
    refresh_token: str
    expires_in: int
    raw_user: dict[str, Any]

    def session_json(self) -> str:
        """The client's ``jacameno.session`` value (api/session.ts)."""
        return json.dumps(
            {
                "user": self.raw_user,
                "accessToken": self.access_token,
                "refreshToken": self.refresh_token,
                "expiresAt": int(time.time() * 1000) + self.expires_in * 1000,
            }
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


class Api:
    """REST factories against the running server (one httpx client per test)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def close(self) -> None:
        self.http.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.is_error:
            raise AssertionError(
                f"{response.request.method} {response.request.url.path} answered"
                f" {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    def signup(self, label: str = "user", name: str | None = None) -> User:
        email = unique_email(label)
        display = name or label.capitalize()
        body = self._check(
            self.http.post(
                "/api/v1/auth/signup",
                json={"email": email, "password": PASSWORD, "display_name": display},
            )
        )
        user = body["user"]
        return User(
            id=user["id"],
            email=email,
            name=display,
            password=PASSWORD,
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_in=int(body["expires_in"]),
            raw_user=user,
        )

    def create_project(
        self,
        owner: User,
        name: str | None = None,
        *,
        bpm: float = 120.0,
        key: str | None = None,
        time_signature: str = "4/4",
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._check(
            self.http.post(
                "/api/v1/projects",
                json={
                    "name": name or f"Song {uuid.uuid4().hex[:6]}",
                    "bpm": bpm,
                    "key": key,
                    "time_signature": time_signature,
                },
                headers=owner.headers,
            )
        )
        return result

    def add_member(self, owner: User, project_id: str, member: User, role: str) -> None:
        """The owner invites ``member`` by email with ``role``; the member accepts."""
        invite = self._check(
            self.http.post(
                f"/api/v1/projects/{project_id}/members",
                json={"email": member.email, "role": role},
                headers=owner.headers,
            )
        )
        self._check(
            self.http.post(f"/api/v1/me/invites/{invite['id']}/accept", headers=member.headers)
        )

    def shared_project(
        self,
        name: str,
        *,
        owner: tuple[str, str] = ("alice", "Alice"),
        member: tuple[str, str] = ("bob", "Bob"),
        role: str = "editor",
        bpm: float = 120.0,
    ) -> tuple[User, User, dict[str, Any]]:
        """Two new people and a project the first owns and the second joined with ``role``
        (each person as (label, display name))."""
        first = self.signup(*owner)
        second = self.signup(*member)
        project = self.create_project(first, name, bpm=bpm)
        self.add_member(first, project["id"], second, role)
        return first, second, project

    def upload_wav(
        self, user: User, project_id: str, name: str, data: bytes, kind: str = "audio"
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._check(
            self.http.post(
                "/api/v1/tracks/upload",
                params={"project_id": project_id},
                data={"project_id": project_id, "name": name, "kind": kind},
                files={"file": (f"{name}.wav", data, "audio/wav")},
                headers=user.headers,
            )
        )
        return result

    def document(self, user: User, project_id: str) -> dict[str, Any]:
        """The server's view of the live document (what every peer converges to)."""
        body: dict[str, Any] = self._check(
            self.http.get(f"/api/v1/projects/{project_id}/document", headers=user.headers)
        )
        return body

    def logout(self, access_token: str, refresh_token: str) -> None:
        self._check(
            self.http.post(
                "/api/v1/auth/logout",
                json={"refresh_token": refresh_token},
                headers={"authorization": f"Bearer {access_token}"},
            )
        )


def sine_wav(seconds: float = 2.0, freq_hz: float = 220.0, rate: int = 44_100) -> bytes:
    """A mono 16-bit WAV of a sine at ``freq_hz`` with a short fade in and out."""
    frames = int(seconds * rate)
    fade = int(0.01 * rate)
    samples = bytearray()
    for i in range(frames):
        envelope = min(1.0, i / fade, (frames - 1 - i) / fade)
        value = 0.5 * envelope * math.sin(2 * math.pi * freq_hz * i / rate)
        samples += struct.pack("<h", int(value * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


def screenshots(page: Page, name: str, *, full_page: bool = False) -> list[Path]:
    """PNGs of the page at every viewport in ``var/screenshots/`` (with ``full_page``, all
    of its height); the size is restored."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    paths = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        path = SCREENSHOT_DIR / f"{name}-{width}x{height}.png"
        page.screenshot(path=str(path), full_page=full_page)
        paths.append(path)
    if before:
        page.set_viewport_size(before)
    return paths


def elapsed_until(action: Callable[[], object]) -> float:
    """Seconds ``action`` (an auto-waiting ``expect``) took to succeed."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start

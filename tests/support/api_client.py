"""A thin test client for the REST API: accounts and authorised calls in one line."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    user_id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


class ApiClient:
    """Wraps an ``httpx.AsyncClient`` pointed at a running server."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def signup(
        self,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        *,
        display_name: str | None = None,
    ) -> Account:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        payload = {"email": email, "password": password}
        if display_name is not None:
            payload["display_name"] = display_name
        response = await self.http.post("/api/v1/auth/signup", json=payload)
        assert response.status_code == 201, response.text
        body = response.json()
        return Account(
            user_id=body["user"]["id"],
            email=body["user"]["email"],
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
        )

    async def create_project(self, owner: Account, name: str = "Song") -> str:
        response = await self.http.post(
            "/api/v1/projects", json={"name": name}, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        project_id: str = response.json()["id"]
        return project_id

    async def add_member(self, owner: Account, project_id: str, member: Account, role: str) -> None:
        """The owner invites the member's email with ``role`` and the member accepts."""
        invited = await self.http.post(
            f"/api/v1/projects/{project_id}/members",
            json={"email": member.email, "role": role},
            headers=owner.headers,
        )
        assert invited.status_code == 201, invited.text
        accepted = await self.http.post(
            f"/api/v1/me/invites/{invited.json()['id']}/accept", headers=member.headers
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == role, accepted.text

    async def api_key(self, owner: Account, project_id: str, role: str) -> str:
        response = await self.http.post(
            f"/api/v1/projects/{project_id}/api-keys",
            json={"name": f"bot-{role}", "role": role},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
        key: str = response.json()["key"]
        return key

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return await self.http.request(method, path, headers=headers, **kwargs)

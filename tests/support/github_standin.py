"""A stand-in for GitHub's OAuth web flow and user API on loopback.

A Starlette app under uvicorn in a thread, answering in the shapes GitHub
documents ("Authorizing OAuth apps", "Troubleshooting OAuth app access token
request errors", the REST ``/user`` and ``/user/emails`` endpoints):

- ``GET /login/oauth/authorize`` approves at once (or denies, with `approve`
  False) and redirects to ``redirect_uri`` with ``code`` and ``state``;
- ``POST /login/oauth/access_token`` trades a code (single use, bound to the
  client, the redirect URI and a PKCE S256 challenge when one was sent) for a
  token: JSON with ``Accept: application/json``, form-encoded otherwise, and
  errors as status 200 with ``error`` as GitHub does;
- ``GET /api/user`` and ``GET /api/user/emails`` need ``Authorization: Bearer``
  (or ``token``); the emails need the ``user:email`` (or ``user``) scope, else 404.

The web and API bases are both `GitHubStandIn.url` (the API under ``/api``).
Each test sets `user` and `emails` and reads `requests` back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.app_server import free_port, serve_asgi_in_thread

DOCS = "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
BAD_VERIFICATION_CODE = {
    "error": "bad_verification_code",
    "error_description": "The code passed is incorrect or expired.",
    "error_uri": f"{DOCS}#bad-verification-code",
}
INCORRECT_CLIENT_CREDENTIALS = {
    "error": "incorrect_client_credentials",
    "error_description": "The client_id and/or client_secret passed are incorrect.",
    "error_uri": f"{DOCS}#incorrect-client-credentials",
}
REDIRECT_URI_MISMATCH = {
    "error": "redirect_uri_mismatch",
    "error_description": "The redirect_uri MUST match the registered callback URL for this application.",  # noqa: E501
    "error_uri": "/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2",  # noqa: E501
}
ACCESS_DENIED = {
    "error": "access_denied",
    "error_description": "The user has denied your application access.",
    "error_uri": "/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",  # noqa: E501
}


@dataclass
class GitHubUser:
    """The ``GET /user`` body's fields that sign-in reads; `email` is the public one."""

    id: int = 123
    login: str = "octo"
    name: str | None = "Octo Cat"
    email: str | None = None
    avatar_url: str = "https://avatars.example.test/u/123"


@dataclass
class GitHubEmail:
    """One entry of ``GET /user/emails``."""

    email: str
    primary: bool = False
    verified: bool = True
    visibility: str | None = None


def default_emails() -> list[GitHubEmail]:
    return [
        GitHubEmail("octo@example.test", primary=True, verified=True, visibility="private"),
        GitHubEmail("octo-old@example.test", primary=False, verified=False),
    ]


@dataclass
class RecordedRequest:
    """One request the stand-in received: its route, query/form fields and headers."""

    path: str
    method: str
    fields: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None


class GitHubStandIn:
    """The OAuth app `client_id`/`client_secret` at GitHub, and one signed-in user."""

    def __init__(
        self, *, client_id: str = "gh-test-client", client_secret: str | None = None
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_hex(20)
        self.user = GitHubUser()
        self.emails: list[GitHubEmail] = default_emails()
        # False: the person clicks "Cancel" and the redirect carries error=access_denied.
        self.approve = True
        self.requests: list[RecordedRequest] = []
        self.issued_tokens: list[str] = []
        self.url = ""
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/login/oauth/authorize", self.authorize, methods=["GET"]),
                Route("/login/oauth/access_token", self.access_token, methods=["POST"]),
                Route("/api/user", self.api_user, methods=["GET"]),
                Route("/api/user/emails", self.api_emails, methods=["GET"]),
            ]
        )

    @property
    def api_url(self) -> str:
        """The REST API base (GitHub's ``https://api.github.com``)."""
        return f"{self.url}/api"

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _record(self, request: Request, fields: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(request.url.path, request.method, fields, dict(request.headers))
            )

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self._record(request, query)
        if query.get("client_id") != self.client_id:
            return PlainTextResponse("Not Found", status_code=404)
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            return PlainTextResponse("redirect_uri is required by this stand-in", status_code=400)
        state = {"state": query["state"]} if "state" in query else {}
        if not self.approve:
            return RedirectResponse(_with_query(redirect_uri, {**ACCESS_DENIED, **state}), 302)
        challenge = query.get("code_challenge")
        if challenge is not None and query.get("code_challenge_method", "S256") != "S256":
            # GitHub supports S256 only.
            return PlainTextResponse("unsupported code_challenge_method", status_code=400)
        code = secrets.token_hex(10)
        with self._lock:
            self._codes[code] = _Grant(
                self.client_id, query.get("redirect_uri"), query.get("scope", ""), challenge
            )
        return RedirectResponse(_with_query(redirect_uri, {"code": code, **state}), 302)

    async def access_token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self._record(request, form)
        client_id, client_secret = _client_credentials(request, form)
        if client_id != self.client_id or client_secret != self.client_secret:
            return _token_answer(request, INCORRECT_CLIENT_CREDENTIALS)
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.client_id != client_id:
            return _token_answer(request, BAD_VERIFICATION_CODE)
        redirect_uri = form.get("redirect_uri")
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            return _token_answer(request, REDIRECT_URI_MISMATCH)
        if grant.code_challenge is not None and not _pkce_ok(
            form.get("code_verifier", ""), grant.code_challenge
        ):
            # GitHub does not document this case; the code is refused like a wrong one.
            return _token_answer(request, BAD_VERIFICATION_CODE)
        token = f"gho_{secrets.token_hex(18)}"
        # GitHub answers the granted scopes comma-separated.
        scope = ",".join(grant.scope.replace(",", " ").split())
        with self._lock:
            self._tokens[token] = scope
            self.issued_tokens.append(token)
        return _token_answer(
            request, {"access_token": token, "token_type": "bearer", "scope": scope}
        )

    def _scopes(self, request: Request) -> set[str] | None:
        """The token's scopes, or None when the request carries no valid token."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        with self._lock:
            scope = self._tokens.get(token.strip())
        return None if scope is None else set(scope.split(","))

    async def api_user(self, request: Request) -> Response:
        self._record(request, dict(request.query_params))
        if self._scopes(request) is None:
            return _bad_credentials()
        return JSONResponse({**asdict(self.user), "type": "User"})

    async def api_emails(self, request: Request) -> Response:
        self._record(request, dict(request.query_params))
        scopes = self._scopes(request)
        if scopes is None:
            return _bad_credentials()
        if not scopes & {"user", "user:email"}:
            return JSONResponse(
                {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404
            )
        return JSONResponse([asdict(entry) for entry in self.emails])


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The client's id and secret from the form or, as GitHub also takes them, HTTP Basic."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def _pkce_ok(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return bool(verifier) and secrets.compare_digest(expected, challenge)


def _token_answer(request: Request, body: dict[str, str]) -> Response:
    """Status 200 either way, like GitHub; the format follows the Accept header."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body)
    return Response(urlencode(body), media_type="application/x-www-form-urlencoded")


def _bad_credentials() -> Response:
    body: dict[str, Any] = {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    return JSONResponse(body, status_code=401)


@pytest.fixture(name="github_standin")
def github_standin_fixture() -> Iterator[GitHubStandIn]:
    """A fresh `GitHubStandIn` listening on a free loopback port."""
    standin = GitHubStandIn()
    port = free_port()
    with serve_asgi_in_thread(standin.app, port, lifespan="off"):
        standin.url = f"http://127.0.0.1:{port}"
        yield standin

"""The certified ``oidc-provider`` (Node) as the OpenID Provider of sign-in tests.

`OidcProvider` runs ``node tests/node/oidc_provider.mjs`` on a free loopback port
with one confidential client (PKCE S256 required; scopes ``openid email profile``)
and accounts for any login typed at its development login page. The client's
redirect URIs are registered at start, so pick the application's port first
(``free_port()``) and pass `oauth_callback_url` for it.

`sign_in_at_provider` plays the person at the provider: from the authorize URL the
application produced, through the login and consent forms, to the redirect back
to the application, whose URL it returns without requesting it.

Needs ``node`` and ``npm ci --prefix tests/node``; `oidc_provider_unavailable_reason`
says what is missing and the ``require_oidc_provider`` fixture skips (or fails
under ``JACAMENO_REQUIRE_SERVICES=1``) on it. Errors: `ServerStartError` (from
node_peer) when the provider does not come up, `SignInError` when the walk
through its pages goes wrong.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urljoin, urlsplit

import anyio
import httpx
import pytest
from anyio.abc import Process, TaskStatus
from anyio.streams.buffered import BufferedByteReceiveStream

from tests.support.node_peer import (
    INSTALL_HINT,
    NODE_DIR,
    NODE_MODULES,
    NodeToolingError,
    ServerStartError,
    _child_env,
    _kill,
    _OutputTail,
    node_unavailable_reason,
)

PROVIDER_SCRIPT = NODE_DIR / "oidc_provider.mjs"
DEFAULT_CLIENT_ID = "jacameno-test"
DEFAULT_START_TIMEOUT_S = 15.0
DEFAULT_ID_TOKEN_TTL_S = 300
# Login, consent and the redirects between them take about eight requests.
MAX_SIGN_IN_STEPS = 20
MAX_LINE_BYTES = 64 * 1024

TokenEndpointAuthMethod = Literal["client_secret_basic", "client_secret_post"]


def oauth_callback_url(base_url: str, name: str) -> str:
    """The redirect URI the application registers for the sign-in provider `name`."""
    return f"{base_url.rstrip('/')}/api/v1/auth/oauth/{name}/callback"


def oidc_provider_unavailable_reason() -> str | None:
    """Why `OidcProvider` cannot run here, or None when it can."""
    reason = node_unavailable_reason()
    if reason is not None:
        return reason
    if not (NODE_MODULES / "oidc-provider" / "package.json").is_file():
        return f"{NODE_MODULES} lacks oidc-provider: {INSTALL_HINT}"
    return None


@pytest.fixture(name="require_oidc_provider")
def require_oidc_provider_fixture() -> None:
    """Skip (or fail with JACAMENO_REQUIRE_SERVICES=1) without node and oidc-provider."""
    from tests.conftest import service_missing

    reason = oidc_provider_unavailable_reason()
    if reason is not None:
        service_missing(f"the Node OpenID Provider cannot run: {reason}")


@dataclass(frozen=True)
class OidcAccount:
    """What the provider says about one login; None fields take the defaults
    (``<login>@example.test``, the login as the name)."""

    email: str | None = None
    email_verified: bool = True
    name: str | None = None

    def as_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"email_verified": self.email_verified}
        if self.email is not None:
            fields["email"] = self.email
        if self.name is not None:
            fields["name"] = self.name
        return fields


class OidcProvider:
    """``oidc-provider`` in a node subprocess: ``async with OidcProvider(redirect_uris=[...])``.

    Inside the block, `issuer` (``http://127.0.0.1:<port>``, discovery under
    ``/.well-known/openid-configuration``), `client_id` and `client_secret` are set.
    `token_endpoint_auth_method` is the one the client is registered with: the
    provider refuses the other. With `conform_id_token_claims`, email and name are
    only at the userinfo endpoint (the spec's reading for the code flow);
    otherwise they are in the ID token too.
    """

    def __init__(
        self,
        *,
        redirect_uris: Sequence[str],
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | None = None,
        token_endpoint_auth_method: TokenEndpointAuthMethod = "client_secret_basic",
        accounts: Mapping[str, OidcAccount] | None = None,
        id_token_ttl_s: int = DEFAULT_ID_TOKEN_TTL_S,
        conform_id_token_claims: bool = False,
        node: str = "node",
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
    ) -> None:
        if not redirect_uris:
            raise ValueError("OidcProvider needs at least one redirect URI (oauth_callback_url)")
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.redirect_uris = list(redirect_uris)
        self.token_endpoint_auth_method = token_endpoint_auth_method
        self.accounts = dict(accounts or {})
        self.id_token_ttl_s = id_token_ttl_s
        self.conform_id_token_claims = conform_id_token_claims
        self._node = node
        self._start_timeout_s = start_timeout_s
        self._output = _OutputTail()
        self._process: Process | None = None
        self._stack: AsyncExitStack | None = None
        self._issuer: str | None = None

    @property
    def issuer(self) -> str:
        if self._issuer is None:
            raise NodeToolingError("the OpenID Provider is not running: use `async with`")
        return self._issuer

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def output_tail(self) -> str:
        """The last lines the provider wrote (stderr, and stdout after the ready line)."""
        return self._output.text()

    def _env(self) -> dict[str, str]:
        client = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": self.redirect_uris,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
        }
        accounts = {login: account.as_json() for login, account in self.accounts.items()}
        return {
            **_child_env(),
            "OIDC_CLIENT": json.dumps(client),
            "OIDC_ACCOUNTS": json.dumps(accounts),
            "OIDC_PORT": "0",
            "OIDC_ID_TOKEN_TTL_S": str(self.id_token_ttl_s),
            "OIDC_CONFORM_ID_TOKEN_CLAIMS": "1" if self.conform_id_token_claims else "0",
        }

    async def __aenter__(self) -> Self:
        reason = oidc_provider_unavailable_reason()
        if reason is not None:
            raise NodeToolingError(reason)
        async with AsyncExitStack() as stack:
            # stdin stays a pipe we hold: the script exits when it closes.
            process = await anyio.open_process(
                [self._node, str(PROVIDER_SCRIPT)], cwd=NODE_DIR, env=self._env()
            )
            self._process = process
            stack.push_async_callback(_kill, process)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(task_group.cancel_scope.cancel)
            if process.stderr is not None:
                task_group.start_soon(self._output.drain, process.stderr)
            try:
                with anyio.fail_after(self._start_timeout_s):
                    self._issuer = await task_group.start(self._read_stdout, process)
            except TimeoutError:
                raise ServerStartError(
                    f"oidc_provider.mjs was not ready within {self._start_timeout_s} s; "
                    f"output: {self.output_tail}"
                ) from None
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is None:
            return
        process = self._process
        if process is not None and process.stdin is not None and process.returncode is None:
            # Closing stdin is the script's signal to exit; the kill is the fallback.
            with anyio.move_on_after(3, shield=True):
                await process.stdin.aclose()
                await process.wait()
        await stack.aclose()
        self._issuer = None

    async def _read_stdout(self, process: Process, *, task_status: TaskStatus[str]) -> None:
        assert process.stdout is not None
        lines = BufferedByteReceiveStream(process.stdout)
        try:
            while True:
                line = await lines.receive_until(b"\n", MAX_LINE_BYTES)
                message = _json_object(line)
                if message.get("ready") is True:
                    task_status.started(str(message["issuer"]))
                    break
                self._output.feed(line + b"\n")
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound) as exc:
            with anyio.move_on_after(1):
                await process.wait()
            raise ServerStartError(
                f"oidc_provider.mjs ended before it was ready (exit code {process.returncode}); "
                f"output: {self.output_tail}"
            ) from exc
        await self._output.drain(lines)


def _json_object(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- the person


class SignInError(Exception):
    """The walk through the provider's pages did not end at a redirect back to the client."""


@dataclass
class _Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """The forms of a page, with their inputs' names, types and values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._open: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = _Form(attributes.get("action", ""), attributes.get("method", "get"))
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and attributes.get("name"):
            name = attributes["name"]
            self._open.fields[name] = attributes.get("value", "")
            self._open.types[name] = attributes.get("type", "text").lower()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


async def sign_in_at_provider(
    http: httpx.AsyncClient | None,
    authorize_url: str,
    login: str,
    *,
    password: str = "any-password",
) -> str:
    """Sign in as `login` at the provider `authorize_url` belongs to and consent; return
    the URL the provider then redirects to (the client's redirect URI with ``code``,
    ``state`` and ``iss``, or with ``error``). That URL is not requested.

    `http` is the person's browser at the provider: give a client of its own (its
    cookies are the provider's session, so a second sign-in with it skips the login
    form and signs in as the first login again), or None for a fresh one.
    """
    if http is None:
        async with httpx.AsyncClient(timeout=10.0) as fresh:
            return await sign_in_at_provider(fresh, authorize_url, login, password=password)
    provider = _origin(authorize_url)
    method, url, data = "GET", authorize_url, None
    trail: list[str] = []
    for _ in range(MAX_SIGN_IN_STEPS):
        response = await http.request(method, url, data=data, follow_redirects=False)
        trail.append(f"{method} {url} -> {response.status_code}")
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if _origin(target) != provider:
                return target
            method, url, data = "GET", target, None
            continue
        if response.status_code != 200:
            raise SignInError(
                f"the provider answered {response.status_code}: {response.text[:500]!r}; "
                f"steps: {trail}"
            )
        form = _interaction_form(response.text, trail)
        url = urljoin(str(response.url), form.action)
        if _origin(url) != provider:
            raise SignInError(f"a form posts to {url} (response_mode=form_post is not supported)")
        method, data = "POST", _fill(form, login, password)
    raise SignInError(f"no redirect back to the client after {MAX_SIGN_IN_STEPS} steps: {trail}")


def _interaction_form(page: str, trail: list[str]) -> _Form:
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    forms = [form for form in parser.forms if form.method.lower() == "post"]
    if len(forms) != 1:
        raise SignInError(f"expected one form on the page, found {len(forms)}; steps: {trail}")
    return forms[0]


def _fill(form: _Form, login: str, password: str) -> dict[str, str]:
    """The login form takes the login and a password; the consent form is sent as it is."""
    values = dict(form.fields)
    for name, kind in form.types.items():
        if kind == "password":
            values[name] = password
        elif name == "login":
            values[name] = login
    return values

"""Real yjs clients and the reference y-websocket server, driven from async Python.

`NodePeer` runs ``node tests/node/peer.mjs``: one Y.Doc behind the stock
y-websocket ``WebsocketProvider``, the client every browser runs. Commands go
to its stdin as JSON lines and replies come back matched by id; unsolicited
lines are kept as `PeerEvent`s (``status``, ``synced``, ``connection-close``,
``closed``, ``connection-error``, ``error``) that a test can await.

`ReferenceServer` runs ``@y/websocket-server`` (the Node server y-websocket
ships with), so the tooling can be proved, and our server compared, against
the implementation the protocol is defined by.

Both need ``node`` and ``npm ci --prefix tests/node``; `node_unavailable_reason`
says what is missing. Use each object from one task: it owns a task group
that lives from ``__aenter__`` to ``__aexit__``.

Errors: `NodeToolingError` is the root; `PeerCommandError` (the peer answered
``ok: false``; ``.type`` is stable, e.g. ``timeout``, ``bad_request``,
``closed``), `PeerExitedError` (the node process ended), `ServerStartError`.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import anyio
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = REPO_ROOT / "tests" / "node"
NODE_MODULES = NODE_DIR / "node_modules"
PEER_SCRIPT = NODE_DIR / "peer.mjs"
REFERENCE_SERVER_SCRIPT = NODE_MODULES / "@y" / "websocket-server" / "src" / "server.js"
REQUIRED_NODE_PACKAGES = ("yjs", "y-websocket", "y-protocols", "lib0", "ws", "@y/websocket-server")
MIN_NODE_MAJOR = 20

DEFAULT_COMMAND_TIMEOUT_S = 20.0
DEFAULT_START_TIMEOUT_S = 15.0
# A reply carries a whole document state in base64; allow big ones.
MAX_LINE_BYTES = 256 * 1024 * 1024
OUTPUT_TAIL_BYTES = 16 * 1024
INSTALL_HINT = "run `npm ci --prefix tests/node`"


class NodeToolingError(Exception):
    """Root of the errors raised by the node test tooling."""


class PeerCommandError(NodeToolingError):
    """The peer answered a command with ``ok: false``."""

    def __init__(self, command: str, error_type: str, message: str, details: Any) -> None:
        super().__init__(f"{command}: {error_type}: {message}")
        self.command = command
        self.type = error_type
        self.details = details


class PeerExitedError(NodeToolingError):
    """The node process ended (or was never ready) while we still needed it."""


class ServerStartError(NodeToolingError):
    """A Node server (the reference or another) did not start listening in time."""


@functools.cache
def node_unavailable_reason(node: str = "node") -> str | None:
    """Why the node tooling cannot run here, or None when it can."""
    executable = shutil.which(node)
    if executable is None:
        return f"`{node}` is not on PATH: install Node.js >= {MIN_NODE_MAJOR}"
    try:
        version = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`{node} --version` failed: {exc}"
    major = version.lstrip("v").split(".", 1)[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        return f"Node.js {version} is too old: need >= {MIN_NODE_MAJOR}"
    missing = [
        name
        for name in REQUIRED_NODE_PACKAGES
        if not (NODE_MODULES / name / "package.json").is_file()
    ]
    if missing:
        return f"{NODE_MODULES} lacks {', '.join(missing)}: {INSTALL_HINT}"
    return None


def node_available() -> bool:
    """True when `node_unavailable_reason` has nothing to say."""
    return node_unavailable_reason() is None


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def b64decode(text: str) -> bytes:
    """Decode the base64 the peer uses for updates and state vectors."""
    return base64.b64decode(text)


def b64encode(data: bytes) -> str:
    """Encode bytes for the peer's ``apply_update``."""
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class PeerEvent:
    """An unsolicited line from the peer: its ``event`` name and the other fields."""

    name: str
    fields: dict[str, Any]
    index: int


@dataclass
class _Pending:
    done: anyio.Event = field(default_factory=anyio.Event)
    reply: dict[str, Any] | None = None


class _OutputTail:
    """The last bytes a process wrote, for error messages."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._data += chunk
        del self._data[:-OUTPUT_TAIL_BYTES]

    def text(self) -> str:
        return self._data.decode("utf-8", "replace").strip()

    async def drain(self, stream: ByteReceiveStream) -> None:
        # Keep reading so a chatty process never blocks on a full pipe.
        try:
            async for chunk in stream:
                self.feed(chunk)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass


class NodePeer:
    """One real yjs client (``tests/node/peer.mjs``) in a node subprocess.

    ``async with NodePeer() as peer: await peer.connect(url, room)``. Every
    command helper returns the reply's ``result``; `request` sends any
    command. Waits that take ``timeout_s`` wait in node on document and
    connection events (no polling) and fail with ``PeerCommandError(type="timeout")``.
    """

    def __init__(
        self,
        *,
        label: str = "peer",
        node: str = "node",
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
    ) -> None:
        self.label = label
        self._node = node
        self._command_timeout_s = command_timeout_s
        self._start_timeout_s = start_timeout_s
        self._process: Process | None = None
        self._stack: AsyncExitStack | None = None
        self._next_id = 0
        self._pending: dict[int, _Pending] = {}
        self._events: list[PeerEvent] = []
        self._events_changed = anyio.Event()
        self._stderr = _OutputTail()
        self._exit_error: PeerExitedError | None = None
        self.client_id: int = -1
        self.pid: int = -1

    async def __aenter__(self) -> Self:
        reason = node_unavailable_reason(self._node)
        if reason is not None:
            raise NodeToolingError(reason)
        async with AsyncExitStack() as stack:
            process = await anyio.open_process(
                [self._node, str(PEER_SCRIPT)], cwd=REPO_ROOT, env=_child_env()
            )
            self._process = process
            stack.push_async_callback(_kill, process)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(task_group.cancel_scope.cancel)
            task_group.start_soon(self._read_replies, process)
            if process.stderr is not None:
                task_group.start_soon(self._stderr.drain, process.stderr)
            ready = await self.wait_event("ready", timeout_s=self._start_timeout_s)
            self.client_id = int(ready.fields["client_id"])
            self.pid = int(ready.fields["pid"])
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
        if process is not None and process.returncode is None and self._exit_error is None:
            # Let the provider close its socket cleanly; the kill is the fallback.
            with anyio.move_on_after(3, shield=True):
                await self._send({"id": None, "cmd": "close"})
                await process.wait()
        # The stack exits our task group, so it must not run inside another scope.
        await stack.aclose()

    # --- the protocol -------------------------------------------------------

    async def request(self, cmd: str, /, *, timeout_s: float | None = None, **args: Any) -> Any:
        """Send one command, wait for its reply and return its ``result``."""
        if self._process is None or self._stack is None:
            raise NodeToolingError(f"{self.label}: use `async with NodePeer()` before sending")
        if self._exit_error is not None:
            raise self._exit_error
        self._next_id += 1
        request_id = self._next_id
        pending = _Pending()
        self._pending[request_id] = pending
        try:
            await self._send({**args, "id": request_id, "cmd": cmd})
            limit_s = self._command_timeout_s if timeout_s is None else timeout_s
            with anyio.fail_after(limit_s):
                await pending.done.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{self.label}: no reply to {cmd!r} within {limit_s} s; stderr: {self.stderr_tail}"
            ) from None
        finally:
            self._pending.pop(request_id, None)
        reply = pending.reply
        if reply is None:
            raise self._exit_error or PeerExitedError(f"{self.label}: no reply to {cmd!r}")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise PeerCommandError(
                cmd,
                str(error.get("type", "unknown")),
                str(error.get("message", "")),
                error.get("details"),
            )
        return reply.get("result")

    async def _send(self, message: Mapping[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise NodeToolingError(f"{self.label}: not started")
        line = json.dumps(message, separators=(",", ":")) + "\n"
        try:
            await process.stdin.send(line.encode())
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise self._exit_error or PeerExitedError(
                f"{self.label}: node stopped reading; stderr: {self.stderr_tail}"
            ) from exc

    async def _read_replies(self, process: Process) -> None:
        assert process.stdout is not None
        lines = BufferedByteReceiveStream(process.stdout)
        try:
            while True:
                line = await lines.receive_until(b"\n", MAX_LINE_BYTES)
                self._dispatch(line)
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError):
            await _returncode_soon(process)
        except anyio.DelimiterNotFound:
            self._record("error", {"message": f"a line over {MAX_LINE_BYTES} bytes"})
        finally:
            # Whatever ended the reading (EOF, cancellation), nobody waits forever.
            self._exit_error = PeerExitedError(
                f"{self.label}: node exited (code {process.returncode}); stderr: {self.stderr_tail}"
            )
            for pending in self._pending.values():
                pending.done.set()
            self._events_changed.set()

    def _dispatch(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            self._record("unparsed", {"line": line.decode("utf-8", "replace")})
            return
        if not isinstance(message, dict):
            self._record("unparsed", {"line": line.decode("utf-8", "replace")})
        elif "event" in message:
            name = str(message.pop("event"))
            self._record(name, message)
        else:
            pending = self._pending.get(message.get("id", -1))
            if pending is not None:
                pending.reply = message
                pending.done.set()
            else:
                self._record("orphan-reply", message)

    def _record(self, name: str, fields: dict[str, Any]) -> None:
        self._events.append(PeerEvent(name, fields, len(self._events)))
        changed, self._events_changed = self._events_changed, anyio.Event()
        changed.set()

    # --- events -------------------------------------------------------------

    @property
    def events(self) -> Sequence[PeerEvent]:
        """Every event so far, oldest first (``PeerEvent.index`` is the position)."""
        return tuple(self._events)

    @property
    def stderr_tail(self) -> str:
        """The last lines node wrote to stderr."""
        return self._stderr.text()

    async def wait_event(
        self,
        name: str,
        *,
        where: Callable[[PeerEvent], bool] | None = None,
        after: int = 0,
        timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
    ) -> PeerEvent:
        """The first event called `name` at index >= `after` that `where` accepts."""
        scanned = after
        try:
            with anyio.fail_after(timeout_s):
                while True:
                    for event in self._events[scanned:]:
                        if event.name == name and (where is None or where(event)):
                            return event
                    scanned = len(self._events)
                    if self._exit_error is not None:
                        raise self._exit_error
                    await self._events_changed.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{self.label}: no {name!r} event within {timeout_s} s; stderr: {self.stderr_tail}"
            ) from None

    # --- commands -----------------------------------------------------------

    async def connect(
        self,
        url: str,
        room: str,
        *,
        params: Mapping[str, str] | None = None,
        reconnect: bool = True,
        per_message_deflate: bool = True,
        max_backoff_ms: int = 2500,
    ) -> dict[str, Any]:
        """Open (or reopen) the provider on ``{url}/{room}?{params}``; does not wait."""
        result: dict[str, Any] = await self.request(
            "connect",
            url=url,
            room=room,
            params=dict(params or {}),
            reconnect=reconnect,
            per_message_deflate=per_message_deflate,
            max_backoff_ms=max_backoff_ms,
        )
        return result

    async def disconnect(self) -> None:
        """Close the socket and stay offline; local edits keep accumulating."""
        await self.request("disconnect")

    async def wait_synced(self, *, timeout_s: float = 10.0) -> None:
        """Wait for sync step 2 from the server; fails at once on a terminal close."""
        await self._wait("wait_synced", timeout_s)

    async def wait_close(self, *, timeout_s: float = 10.0) -> dict[str, Any]:
        """The latest server-side close since `connect`: ``code``, ``reason``, ``terminal``."""
        close: dict[str, Any] = await self._wait("wait_close", timeout_s)
        return close

    async def wait_for(self, kind: str, *, timeout_s: float = 10.0, **condition: Any) -> Any:
        """Wait for a document or awareness condition; see ``wait_for`` in peer.mjs."""
        return await self._wait("wait_for", timeout_s, kind=kind, **condition)

    async def _wait(self, cmd: str, timeout_s: float, **args: Any) -> Any:
        # node times the wait; our own deadline only catches a hung process.
        return await self.request(
            cmd, timeout_s=timeout_s + self._command_timeout_s, timeout_ms=timeout_s * 1000, **args
        )

    async def text_insert(self, name: str, index: int, text: str) -> int:
        """Insert into the Y.Text `name`; returns its new length."""
        result = await self.request("text_insert", name=name, index=index, text=text)
        return int(result["length"])

    async def text_delete(self, name: str, index: int, length: int) -> int:
        result = await self.request("text_delete", name=name, index=index, length=length)
        return int(result["length"])

    async def text_get(self, name: str) -> str:
        result = await self.request("text_get", name=name)
        return str(result["text"])

    async def map_set(self, name: str, key: str, value: Any) -> None:
        await self.request("map_set", name=name, key=key, value=value)

    async def map_get(self, name: str, key: str) -> Any:
        """The value under `key`, or None when absent."""
        result = await self.request("map_get", name=name, key=key)
        return result["value"]

    async def map_json(self, name: str) -> dict[str, Any]:
        result = await self.request("map_json", name=name)
        value: dict[str, Any] = result["value"]
        return value

    async def array_push(self, name: str, values: Sequence[Any]) -> int:
        result = await self.request("array_push", name=name, values=list(values))
        return int(result["length"])

    async def array_len(self, name: str) -> int:
        result = await self.request("array_len", name=name)
        return int(result["length"])

    async def transact(self, ops: Sequence[Mapping[str, Any]]) -> None:
        """Several edits (each ``{"cmd": "text_insert", ...}``) in one Yjs transaction."""
        await self.request("transact", ops=[dict(op) for op in ops])

    async def state(self, roots: Mapping[str, str] | None = None) -> PeerState:
        """The document: full update, state vector and a JSON view of the roots.

        `roots` maps root names to ``text``/``map``/``array``/``xml``; without
        it every root the document has is guessed from its content.
        """
        args: dict[str, Any] = {} if roots is None else {"roots": dict(roots)}
        result = await self.request("state", **args)
        return PeerState(
            client_id=int(result["client_id"]),
            update=b64decode(result["update"]),
            state_vector=b64decode(result["state_vector"]),
            json=result["json"],
        )

    async def apply_update(self, update: bytes) -> None:
        await self.request("apply_update", update=b64encode(update))

    async def set_awareness(self, state: Mapping[str, Any] | None) -> None:
        """Set (None clears) this client's awareness state; the provider broadcasts it."""
        await self.request("set_awareness", state=None if state is None else dict(state))

    async def awareness_states(self) -> dict[int, Any]:
        """Awareness states this client knows, by client id (its own included)."""
        result = await self.request("awareness_states")
        return {int(entry["client_id"]): entry["state"] for entry in result["states"]}

    async def count_updates(self) -> int:
        """How many document updates arrived from the server."""
        result = await self.request("count_updates")
        return int(result["remote"])


@dataclass(frozen=True)
class PeerState:
    """A peer's document as the `NodePeer.state` command reports it."""

    client_id: int
    update: bytes
    state_vector: bytes
    json: dict[str, Any]


class ReferenceServer:
    """``@y/websocket-server`` on a loopback port; ``url`` is the provider's server URL.

    With `persistence_dir` it stores documents with y-leveldb (``YPERSISTENCE``).
    Entering returns once the port accepts connections. ``script`` runs another
    Node server configured the same way (``HOST``, ``PORT``, ``YPERSISTENCE``),
    e.g. the benchmark's Hocuspocus.
    """

    def __init__(
        self,
        *,
        script: Path = REFERENCE_SERVER_SCRIPT,
        persistence_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        node: str = "node",
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_tcp_port(host)
        self.persistence_dir = persistence_dir
        self._script = script
        self._node = node
        self._start_timeout_s = start_timeout_s
        self._extra_env = dict(extra_env or {})
        self._output = _OutputTail()
        self._process: Process | None = None
        self._stack: AsyncExitStack | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise NodeToolingError(
                f"the Node server ({self._script.name}) is not running: use `async with`"
            )
        return self._process.pid

    @property
    def output_tail(self) -> str:
        return self._output.text()

    async def __aenter__(self) -> Self:
        reason = node_unavailable_reason(self._node)
        if reason is not None:
            raise NodeToolingError(reason)
        env = {**_child_env(), "HOST": self.host, "PORT": str(self.port), **self._extra_env}
        if self.persistence_dir is not None:
            self.persistence_dir.mkdir(parents=True, exist_ok=True)
            env["YPERSISTENCE"] = str(self.persistence_dir)
        async with AsyncExitStack() as stack:
            process = await anyio.open_process(
                [self._node, str(self._script)],
                cwd=NODE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
            )
            self._process = process
            stack.push_async_callback(_kill, process)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(task_group.cancel_scope.cancel)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    task_group.start_soon(self._output.drain, stream)
            await self._wait_listening(process)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def _wait_listening(self, process: Process) -> None:
        delay_s = 0.01
        with anyio.move_on_after(self._start_timeout_s):
            while process.returncode is None:
                try:
                    stream = await anyio.connect_tcp(self.host, self.port)
                except OSError:
                    await anyio.sleep(delay_s)
                    delay_s = min(delay_s * 2, 0.2)
                    continue
                await stream.aclose()
                return
        raise ServerStartError(
            f"the Node server ({self._script.name}) did not listen on {self.host}:{self.port}"
            f" within {self._start_timeout_s} s (exit code {process.returncode}); "
            f"output: {self.output_tail}"
        )


def _child_env() -> dict[str, str]:
    # A developer's NODE_OPTIONS (inspectors, loaders) must not leak into the tools.
    return {key: value for key, value in os.environ.items() if key != "NODE_OPTIONS"}


async def _returncode_soon(process: Process) -> int | None:
    with anyio.move_on_after(1):
        return await process.wait()
    return process.returncode


async def _kill(process: Process) -> None:
    with anyio.CancelScope(shield=True):
        if process.returncode is None:
            # Node has nothing to flush that we still want: a graceful close was tried first.
            process.terminate()
            with anyio.move_on_after(3):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
        await process.aclose()

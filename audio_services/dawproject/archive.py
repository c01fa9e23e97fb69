"""Reading a .dawproject archive that may be hostile.

Every member name is checked before anything is read: an absolute path, a ``..``
component (zip slip), a NUL byte or a name given twice refuses the whole archive, as
do more than `DEFAULT_MAX_MEMBERS` members. Members are read in chunks against one
byte budget for the whole import (`DEFAULT_MAX_TOTAL_BYTES`), so a member that
inflates far beyond its declared size (a zip bomb) stops at the budget.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from .errors import DawProjectError

__all__ = [
    "DEFAULT_MAX_MEMBERS",
    "DEFAULT_MAX_TOTAL_BYTES",
    "MAX_XML_BYTES",
    "DawProjectArchive",
    "member_name",
]

DEFAULT_MAX_MEMBERS = 10_000
"""Members an archive may hold (audio files, plug-in states, the XML)."""
DEFAULT_MAX_TOTAL_BYTES = 2 * 1024**3
"""Bytes an import reads from an archive, XML and extracted audio together."""
MAX_XML_BYTES = 64 * 1024**2
"""Largest XML file read (a long, dense project.xml is a few megabytes)."""

_CHUNK_BYTES = 1024**2
#: Where a member's chunks go (a list's append, a file's write).
_Write = Callable[[bytes], object]
_DRIVE = re.compile(r"[A-Za-z]:")
# What reading a broken or unsupported member raises (CRC, encryption, compression).
_READ_ERRORS = (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError)


def member_name(raw: str) -> str:
    """``raw`` as a safe relative path with ``/`` separators; raises `DawProjectError`
    for names that could escape the folder they are extracted to."""
    name = raw.replace("\\", "/")
    if "\x00" in name:
        raise DawProjectError(f"unsafe name in the archive: {raw!r} holds a NUL byte")
    if name.startswith("/") or _DRIVE.match(name):
        raise DawProjectError(f"unsafe name in the archive: {raw!r} is an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise DawProjectError(f"unsafe name in the archive: {raw!r} leads out of its folder")
    if not parts:
        raise DawProjectError(f"unsafe name in the archive: {raw!r} is empty")
    return "/".join(parts)


class DawProjectArchive:
    """A .dawproject (zip) archive opened for reading, its member names checked."""

    def __init__(
        self,
        path: Path,
        *,
        max_members: int = DEFAULT_MAX_MEMBERS,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    ) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError as exc:
            raise DawProjectError(f"no such file: {path}") from exc
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise DawProjectError(
                f"{path.name} is not a DAWproject file (not a zip archive)"
            ) from exc
        try:
            self._members = self._checked_members(max_members)
        except BaseException:
            self._zip.close()
            raise
        self._budget = max_total_bytes

    def _checked_members(self, max_members: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > max_members:
            raise DawProjectError(f"the archive holds {len(infos)} members; at most {max_members}")
        members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = member_name(info.filename)
            if info.is_dir():
                continue
            if name in members:
                raise DawProjectError(f"the archive holds {name!r} twice")
            members[name] = info
        return members

    @property
    def names(self) -> frozenset[str]:
        """The (checked) paths of the files in the archive."""
        return frozenset(self._members)

    def read(self, name: str, *, max_bytes: int = MAX_XML_BYTES) -> bytes | None:
        """The member ``name`` (None if the archive has none), at most ``max_bytes``."""
        info = self._members.get(name)
        if info is None:
            return None
        chunks: list[bytes] = []
        self._copy(info, chunks.append, max_bytes)
        return b"".join(chunks)

    def extract(self, name: str, folder: Path) -> Path:
        """Write the member ``name`` to the same relative path under ``folder``."""
        info = self._members[name]
        target = folder / name
        if not target.resolve().is_relative_to(folder.resolve()):
            raise DawProjectError(f"unsafe name in the archive: {name!r} leads out of {folder}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as file:
                self._copy(info, file.write, self._budget)
        except OSError as exc:
            target.unlink(missing_ok=True)
            raise DawProjectError(f"cannot extract {name!r} to {target}: {exc}") from exc
        except BaseException:
            target.unlink(missing_ok=True)  # no half-written audio left behind
            raise
        return target

    def _copy(self, info: zipfile.ZipInfo, write: _Write, max_bytes: int) -> None:
        limit = min(max_bytes, self._budget)
        if info.file_size > limit:
            raise self._too_big(info.filename, max_bytes)
        try:
            with self._zip.open(info) as source:
                self._drain(source, write, info.filename, limit, max_bytes)
        except _READ_ERRORS as exc:
            raise DawProjectError(
                f"{info.filename!r} cannot be read from the archive: {exc}"
            ) from exc

    def _drain(
        self, source: IO[bytes], write: _Write, name: str, limit: int, max_bytes: int
    ) -> None:
        # Declared sizes can lie: count what actually comes out.
        read = 0
        while chunk := source.read(_CHUNK_BYTES):
            read += len(chunk)
            if read > limit:
                raise self._too_big(name, max_bytes)
            write(chunk)
        self._budget -= read

    def _too_big(self, name: str, max_bytes: int) -> DawProjectError:
        if max_bytes < self._budget:
            return DawProjectError(f"{name!r} is larger than {max_bytes} bytes")
        return DawProjectError(
            f"the archive holds more than an import may extract ({self._budget} bytes left of the "
            "budget): raise max_total_bytes for a project this large"
        )

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> DawProjectArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

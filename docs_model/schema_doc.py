"""docs/schema.md, generated from the declarations in `schema.py`.

Regenerate it with ``python -m jacameno.docs_model.schema_doc > docs/schema.md``; a test
fails whenever the committed file and the declarations differ.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from .fields import Field, FieldType
from .records import Container, RecordSpec, RootKind, record_spec
from .schema import CURRENT_SCHEMA_VERSION, ROOTS

__all__ = ["schema_markdown"]

_TYPE_NAMES = {
    FieldType.NUMBER: "number",
    FieldType.STRING: "string",
    FieldType.BOOL: "boolean",
    FieldType.ORDER_KEY: "fractional-index key",
    FieldType.OBJECT: "object (JSON)",
}


def schema_markdown() -> str:
    """The document schema as Markdown: roots, then each record with its fields' types,
    defaults and constraints, and the rules across fields."""
    lines = [
        "# The project document",
        "",
        "<!-- Generated from docs_model/schema.py by",
        "     `python -m jacameno.docs_model.schema_doc > docs/schema.md`; do not edit. -->",
        "",
        f"Schema version {CURRENT_SCHEMA_VERSION} (`meta.schema_version`). Times in the song "
        "are seconds (`*_s`), gains decibels (`*_db`), timestamps float epoch seconds "
        "(`*_at`); Yjs stores every number as a float.",
        "",
        "Reads never fail on what a peer wrote: an absent, null or unacceptable field reads "
        "as its default, and a record lacking a required field is skipped (unless noted). "
        "`validate()` reports each such problem at the path given here.",
        "",
        "## Roots",
        "",
        "| Root | Type | Holds |",
        "|---|---|---|",
    ]
    for root in ROOTS:
        holds = f"[{root.view.__name__}](#{root.view.__name__.lower()})" if root.view else ""
        about = ", ".join(part for part in (holds, root.doc) if part)
        lines.append(f"| `{root.name}` | {root.kind.value} | {about} |")
    lines += ["", "## Records"]
    for path, declared in _records():
        lines += ["", *_record_section(path, declared)]
    return "\n".join(lines) + "\n"


def _records() -> Iterator[tuple[str, RecordSpec]]:
    """Every record with the dotted path it is stored at, depth first in root order."""
    for root in ROOTS:
        if root.view is None:
            continue
        if root.kind is RootKind.RECORD:
            path = root.name
        elif root.kind is RootKind.KEYED:
            path = f"{root.name}.<id>"
        else:
            path = f"{root.name}.<index>"
        yield from _walk(path, record_spec(root.view))


def _walk(path: str, declared: RecordSpec) -> Iterator[tuple[str, RecordSpec]]:
    yield path, declared
    for name, nested in declared.nested.items():
        item = "<id>" if nested.container is Container.MAP else "<index>"
        yield from _walk(f"{path}.{name}.{item}", record_spec(nested.view))


def _record_section(path: str, declared: RecordSpec) -> list[str]:
    view = declared.view
    lines = [f"### {view.__name__}", "", f"At `{path}`. {_summary(view)}"]
    if declared.keep_incomplete:
        lines[-1] += " Read even when a required field is wrong (with its default)."
    lines += ["", "| Field | Type | Default | Constraints |", "|---|---|---|---|"]
    for attribute in dataclasses.fields(view):
        lines.append("| " + " | ".join(_cell(c) for c in _row(declared, attribute.name)) + " |")
    for rule in declared.rules:
        lines += ["", f"Rule: `{rule.field}` {rule.message} (otherwise it reads as its default)."]
    return lines


def _row(declared: RecordSpec, name: str) -> tuple[str, str, str, str]:
    """Field, type, default and constraints of one attribute of the view."""
    if name in declared.keys:
        return f"`{name}`", "string", "", "the record's key in its parent Map; not stored"
    nested = declared.nested.get(name)
    if nested is not None:
        target = nested.view.__name__
        kind = "Map by id" if nested.container is Container.MAP else "Array"
        order = "sorted on read" if nested.order is not None else "in stored order"
        return f"`{name}`", f"{kind} of [{target}](#{target.lower()})", "empty", order
    spec = declared.fields[name]
    return f"`{name}`", _type_name(spec), _default(spec), _constraints(spec)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a bare | would end the table cell


def _summary(view: type[Any]) -> str:
    doc = view.__doc__ or ""
    if doc.startswith(f"{view.__name__}("):  # the signature dataclass fills in
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def _type_name(spec: Field) -> str:
    if spec.integer:
        return "whole number"
    return _TYPE_NAMES[spec.type]


def _default(spec: Field) -> str:
    if spec.required and spec.default is None:
        return ""
    value = dict(spec.default) if isinstance(spec.default, Mapping) else spec.default
    if isinstance(value, float) and spec.integer:
        value = int(value)
    return f"`{json.dumps(value)}`"


def _constraints(spec: Field) -> str:
    parts: list[str] = []
    if spec.required:
        parts.append("required")
    if spec.nullable:
        parts.append("may be null")
    if spec.positive:
        parts.append("> 0")
    if spec.minimum is not None and spec.maximum is not None:
        parts.append(f"between {spec.minimum:g} and {spec.maximum:g}")
    elif spec.minimum is not None:
        parts.append(f">= {spec.minimum:g}")
    elif spec.maximum is not None:
        parts.append(f"<= {spec.maximum:g}")
    if spec.choices:
        parts.append("one of " + ", ".join(f"`{choice}`" for choice in spec.choices))
    if spec.pattern is not None:
        parts.append(f"matches `{spec.pattern.pattern}`")
    if spec.doc:
        parts.append(spec.doc)
    return "; ".join(parts)


if __name__ == "__main__":
    print(schema_markdown(), end="")

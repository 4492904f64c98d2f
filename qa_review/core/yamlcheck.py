"""YAML validated by a pydantic model, every error with its file and line.

pydantic reports where in the data a value is wrong; the YAML node tree
knows on which line that data was written. Shared by checklists and bonus
rules, so both speak to their author the same way.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class Loaded(BaseModel):
    """A validated YAML file with the text it came from: kept with what it scored, checked by its hash."""

    model_config = ConfigDict(frozen=True)

    source: str  # file path or "<string>"
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def compose(text: str, source: str, error: type[Exception], shape: str) -> tuple[yaml.Node, dict]:
    """The node tree (for lines) and the data of a YAML mapping."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(e, "problem", None) or str(e)
        raise error(f"{where}: not valid YAML: {problem}") from e
    if not isinstance(data, dict):
        raise error(f"{source}:1: {shape}")
    return node, data


def node_at(node: yaml.Node, loc: tuple) -> yaml.Node:
    """The deepest YAML node along a pydantic error location."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
            if nxt is None:
                continue  # a union member's tag pydantic puts in loc
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
    return node


def path_of(data, loc: tuple, tags: tuple[str, ...] = ()) -> str:
    """'sections[greeting].items[greet_clinic].check.any' from a loc tuple."""
    parts: list[str] = []
    cur = data
    for key in loc:
        if isinstance(key, int) and isinstance(cur, list) and key < len(cur):
            cur = cur[key]
            ident = cur.get("id") if isinstance(cur, dict) else None
            if parts:
                parts[-1] += f"[{ident}]" if ident else f"[{key}]"
        elif isinstance(cur, dict) and key in cur:
            cur = cur[key]
            parts.append(str(key))
        elif key in tags:
            continue
        else:
            parts.append(str(key))
    return ".".join(parts) or "(top level)"


def validate(
    model: type[M],
    node: yaml.Node,
    data: dict,
    source: str,
    error: type[Exception],
    extra: list[str] = (),
    tags: tuple[str, ...] = (),
) -> M:
    """The validated model, or ``error`` listing every problem as 'file:line: path: what'."""
    try:
        result = model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        lines = []
        for err in errors:
            loc = tuple(err["loc"])
            if err["type"] == "too_short" and any(
                tuple(o["loc"])[: len(loc)] == loc and len(o["loc"]) > len(loc) for o in errors
            ):
                continue  # a consequence of the errors inside it, not news
            if err["type"] == "union_tag_invalid":
                loc = loc + ("kind",)
            line = node_at(node, loc).start_mark.line + 1
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required field missing"
            elif err["type"] == "extra_forbidden":
                msg = f"unknown field {loc[-1]!r}"
            elif err["type"] == "union_tag_invalid":
                got = err["input"].get("kind") if isinstance(err.get("input"), dict) else err.get("input")
                msg = f"unknown kind {got!r}; use {', '.join(tags[:-1])} or {tags[-1]}"
            elif err["type"] == "string_pattern_mismatch":
                msg = f"{err['input']!r} is not a valid id: use lower-case letters, digits, _ and -"
            lines.append(f"{source}:{line}: {path_of(data, loc, tags)}: {msg}")
        raise error("\n".join(lines + list(extra))) from e
    if extra:
        raise error("\n".join(extra))
    return result

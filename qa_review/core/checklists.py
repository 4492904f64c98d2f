"""Checklists: the YAML format, validated with pydantic, errors with line numbers.

Loading is pure (text in, Checklist out); reading the files is
services/catalog.py's job.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qa_review.core.errors import ChecklistError
from qa_review.core.metrics import AUDIO_METRICS, WRITTEN_METRICS
from qa_review.core.yamlcheck import Loaded, compose, validate

ID_RE = r"^[a-z0-9_-]+$"
SPEAKER = Literal["operator", "client", "any"]

METRICS = ("duration_s", "first_response_s") + AUDIO_METRICS + WRITTEN_METRICS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matching(_Strict):
    """Similarity thresholds (0-1): at or above ``threshold`` a phrase is found;
    between ``review_below`` and ``threshold`` the match is borderline and the
    item goes to a human (needs-review)."""

    threshold: float = Field(0.85, gt=0, le=1)
    review_below: float = Field(0.72, gt=0, le=1)

    @model_validator(mode="after")
    def _order(self):
        if self.review_below > self.threshold:
            raise ValueError(f"review_below ({self.review_below}) must not exceed threshold ({self.threshold})")
        return self


# Call variables a phrase may name, resolved per call: the operator's spoken
# name from their account, the clinic's name from the site's ASR profile.
# One checklist then serves every operator ("меня зовут {operator_name}").
VARIABLES = ("operator_name", "clinic")
_VARIABLE = re.compile(r"\{(\w+)\}")


def variables_in(phrase: str) -> list[str]:
    return _VARIABLE.findall(phrase)


def resolve(phrase: str, values: dict[str, str]) -> str | None:
    """The phrase with its variables filled in; None if one has no value for this call."""
    missing = [n for n in variables_in(phrase) if not values.get(n)]
    if missing:
        return None
    return _VARIABLE.sub(lambda m: values[m.group(1)], phrase)


class _Phrases(_Strict):
    speaker: SPEAKER = "operator"
    any: tuple[str, ...] | None = None
    all: tuple[str, ...] | None = None
    within_first_s: float | None = Field(None, gt=0)
    within_last_s: float | None = Field(None, gt=0)
    within_first_turns: int | None = Field(None, gt=0)
    threshold: float | None = Field(None, gt=0, le=1)

    @field_validator("any", "all")
    @classmethod
    def _non_empty(cls, v):
        if v is not None:
            if not v:
                raise ValueError("needs at least one phrase")
            for p in v:
                if not re.search(r"\w", p):
                    raise ValueError(f"phrase {p!r} has no words")
                for name in variables_in(p):
                    if name not in VARIABLES:
                        raise ValueError(
                            f"phrase {p!r}: unknown call variable {{{name}}}; "
                            f"known: {', '.join('{' + v + '}' for v in VARIABLES)}"
                        )
        return v

    @model_validator(mode="after")
    def _one_list(self):
        if self.any is None and self.all is None:
            raise ValueError("give the phrases as `any: [...]` (one is enough) or `all: [...]` (every one)")
        if self.any is not None and self.all is not None:
            raise ValueError("give either `any:` or `all:`, not both")
        return self

    @property
    def phrases(self) -> tuple[str, ...]:
        return self.any if self.any is not None else self.all  # type: ignore[return-value]

    @property
    def need_all(self) -> bool:
        return self.all is not None


class PhraseCheck(_Phrases):
    kind: Literal["phrase"]


class ForbiddenCheck(_Phrases):
    kind: Literal["forbidden"]


class MetricCheck(_Strict):
    kind: Literal["metric"]
    metric: str
    max: float | None = None
    min: float | None = None

    @field_validator("metric")
    @classmethod
    def _known(cls, v):
        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(METRICS)}")
        return v

    @model_validator(mode="after")
    def _bound(self):
        if self.max is None and self.min is None:
            raise ValueError("a metric check needs `max:` or `min:` (or both)")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class ManualCheck(_Strict):
    kind: Literal["manual"]
    hint: str | None = None


CHECK_KINDS = ("phrase", "forbidden", "metric", "manual")
Check = Annotated[PhraseCheck | ForbiddenCheck | MetricCheck | ManualCheck, Field(discriminator="kind")]


class Condition(_Phrases):
    """``applies_if``: the item applies only when these phrases are said."""

    speaker: SPEAKER = "client"


class Item(_Strict):
    id: str = Field(pattern=ID_RE)
    title: str | None = None
    weight: float = Field(1, gt=0)
    critical: bool = False
    check: Check
    # one condition, or a list: the item applies when any of them is met
    applies_if: Condition | tuple[Condition, ...] | None = None

    @property
    def conditions(self) -> tuple[Condition, ...]:
        if self.applies_if is None:
            return ()
        return self.applies_if if isinstance(self.applies_if, tuple) else (self.applies_if,)


class Section(_Strict):
    id: str = Field(pattern=ID_RE)
    title: str | None = None
    items: tuple[Item, ...] = Field(min_length=1)


# Clinics' calls are mostly patients calling in, and a PBX export often
# leaves the direction empty: such a call is scored as inbound rather than
# not at all (set direction in the manifest for outbound ones).
MISSING_DIRECTION = "inbound"


class AppliesTo(_Strict):
    channel: tuple[Literal["phone", "chat", "messenger", "email"], ...] | None = None
    direction: tuple[Literal["inbound", "outbound"], ...] | None = None


class Checklist(_Strict):
    id: str = Field(pattern=ID_RE)
    title: str
    version: int = Field(ge=1)
    language: str = "ru"
    pass_mark: float | None = Field(None, ge=0, le=100)
    matching: Matching = Matching()
    applies_to: AppliesTo | None = None
    sections: tuple[Section, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self):
        seen: dict[str, str] = {}
        for s in self.sections:
            if s.id in seen:
                raise ValueError(f"duplicate id {s.id!r}: section ids must be unique")
            seen[s.id] = "section"
            for it in s.items:
                if it.id in seen:
                    raise ValueError(f"duplicate id {it.id!r}: item ids must be unique across the checklist")
                seen[it.id] = "item"
        return self

    def items(self):
        for s in self.sections:
            for it in s.items:
                yield s, it

    def applies(self, channel: str, direction: str | None) -> bool:
        """Whether a call of this channel and direction is scored with it (no direction: inbound)."""
        a = self.applies_to
        if a is None:
            return True
        if a.channel and channel not in a.channel:
            return False
        if a.direction and (direction or MISSING_DIRECTION) not in a.direction:
            return False
        return True


class LoadedChecklist(Loaded):
    """A validated checklist with the text it came from (kept for the record)."""

    checklist: Checklist


# --- parsing -------------------------------------------------------------------


def _duplicate_ids(root: yaml.Node | None, source: str) -> list[str]:
    """Section and item ids used twice, each with the line of its second use."""

    def get(node, key):
        if isinstance(node, yaml.MappingNode):
            return next((v for k, v in node.value if k.value == key), None)
        return None

    def seq(node):
        return node.value if isinstance(node, yaml.SequenceNode) else []

    seen: dict[str, int] = {}
    out = []
    for sec in seq(get(root, "sections")):
        for ent in [sec] + seq(get(sec, "items")):
            id_node = get(ent, "id")
            if not isinstance(id_node, yaml.ScalarNode):
                continue
            line = id_node.start_mark.line + 1
            if id_node.value in seen:
                out.append(
                    f"{source}:{line}: duplicate id {id_node.value!r} (first used on line "
                    f"{seen[id_node.value]}); section and item ids must be unique"
                )
            else:
                seen[id_node.value] = line
    return out


def parse(text: str, source: str = "<string>") -> LoadedChecklist:
    node, data = compose(
        text, source, ChecklistError, "a checklist is a YAML mapping with id, title, version, sections"
    )
    checklist = validate(
        Checklist, node, data, source, ChecklistError, extra=_duplicate_ids(node, source), tags=CHECK_KINDS
    )
    return LoadedChecklist(checklist=checklist, source=source, text=text)

"""Bonus rules: the YAML that turns a month's scores into a pay coefficient.

Validated like checklists (file, line, path, problem). Pure: text in,
rules out; applying them is ``coefficient``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qa_review.core.errors import RulesError
from qa_review.core.yamlcheck import Loaded, compose, validate


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """Matches a value at or above ``min`` (higher is better) or at or below ``max``."""

    min: float | None = None
    max: float | None = None
    coefficient: float = Field(ge=0)

    @model_validator(mode="after")
    def _one_bound(self):
        if (self.min is None) == (self.max is None):
            raise ValueError("a band needs exactly one of `min:` or `max:`")
        return self

    def matches(self, value: float) -> bool:
        return value >= self.min if self.min is not None else value <= self.max  # type: ignore[operator]


def _check_bands(bands: tuple[Band, ...]) -> tuple[Band, ...]:
    kinds = {"min" if b.min is not None else "max" for b in bands}
    if len(kinds) > 1:
        raise ValueError("use `min:` in every band or `max:` in every band, not both")
    keys = [b.min if b.min is not None else b.max for b in bands]
    ordered = sorted(keys, reverse="min" in kinds)
    if keys != ordered:
        raise ValueError(
            "bands are tried in order, first match wins: list them from the best (highest min, or lowest max) down"
        )
    return bands


class Quality(_Strict):
    source: Literal["final_score_mean"] = "final_score_mean"
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands(self):
        _check_bands(self.bands)
        return self


class Input(_Strict):
    """Another KPI (imported per operator and month), with its weight and bands."""

    metric: str = Field(pattern=r"^[a-z0-9_]+$")
    weight: float = Field(gt=0, lt=1)
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands(self):
        _check_bands(self.bands)
        return self


class Rules(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    title: str = ""
    version: int = Field(ge=1)
    period: Literal["month"] = "month"
    min_reviewed_calls: int = Field(1, ge=1)
    quality: Quality
    critical_fail_penalty: float = Field(0, ge=0)
    floor: float = Field(0, ge=0)
    inputs: tuple[Input, ...] = ()
    # what to do when the score's confidence interval spans a band boundary
    uncertain_band: Literal["pay", "hold", "more_calls"] = "pay"

    @model_validator(mode="after")
    def _weights(self):
        total = sum(i.weight for i in self.inputs)
        if total >= 1:
            raise ValueError(f"input weights add up to {total:g}; quality needs a share, keep them under 1")
        names = [i.metric for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("each input metric may appear once")
        return self


class LoadedRules(Loaded):
    rules: Rules


def parse(text: str, source: str = "<string>") -> LoadedRules:
    node, data = compose(text, source, RulesError, "bonus rules are a YAML mapping with id, version, quality")
    return LoadedRules(rules=validate(Rules, node, data, source, RulesError), source=source, text=text)


def band_of(bands: tuple[Band, ...], value: float) -> Band | None:
    return next((b for b in bands if b.matches(value)), None)


Note = tuple[str, dict]  # a code in messages.yaml (note.*) and its values


def coefficient(
    rules: Rules, score_mean: float | None, critical_calls: int, reviewed: int, inputs: dict[str, float] | None = None
) -> tuple[float | None, list[Note]]:
    """(coefficient, notes). None when the rules give none (too few calls, no score)."""
    if reviewed < rules.min_reviewed_calls:
        return None, [("too_few", {"n": reviewed, "min": rules.min_reviewed_calls})]
    if score_mean is None:
        return None, [("no_score", {})]
    q = band_of(rules.quality.bands, score_mean)
    if q is None:
        return None, [("no_band", {"score": f"{score_mean:.1f}"})]
    inputs = inputs or {}
    value = (1 - sum(i.weight for i in rules.inputs)) * q.coefficient
    notes = []
    for i in rules.inputs:
        v = inputs.get(i.metric)
        b = band_of(i.bands, v) if v is not None else None
        if b is None:
            # a missing input must not silently cost money: its share counts as quality
            value += i.weight * q.coefficient
            notes.append(("input_missing", {"metric": i.metric}))
        else:
            value += i.weight * b.coefficient
    value -= rules.critical_fail_penalty * critical_calls
    value = max(rules.floor, round(value, 3))
    return value, notes

"""The call log's rules (what counts as lost, returned, within service level, resolved): YAML, validated."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qa_review.core.errors import RulesError
from qa_review.core.yamlcheck import Loaded, compose, validate


class CallLogRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field("call-log", pattern=r"^[a-z0-9_-]+$")
    version: int = Field(1, ge=1)
    lost_min_wait_s: float = Field(5, ge=0)
    callback_window_min: float = Field(60, gt=0)
    service_level_s: float = Field(20, ge=0)
    fcr_window_days: float = Field(7, gt=0)
    phone_digits: int = Field(10, ge=5, le=15)


class LoadedCallLogRules(Loaded):
    rules: CallLogRules


def parse(text: str, source: str = "<string>") -> LoadedCallLogRules:
    node, data = compose(text, source, RulesError, "call log rules are a YAML mapping (lost_min_wait_s: 5, ...)")
    return LoadedCallLogRules(rules=validate(CallLogRules, node, data, source, RulesError), source=source, text=text)

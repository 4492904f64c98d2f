"""UI strings: one catalogue (messages.yaml), Russian by default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES = ("ru", "en")
DEFAULT = "ru"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    path = Path(__file__).with_name("messages.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def t(key: str, lang: str = DEFAULT, **values) -> str:
    """The message ``key`` in ``lang``; an unknown key shows itself, so it is noticed."""
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text

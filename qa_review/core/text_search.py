"""Search words as checklist matching sees them: Snowball stems, so "записала" finds "записать"."""

from __future__ import annotations

import re

from qa_review.core.matching import norm, phrase_words, stem

_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTED = re.compile(r'"([^"]+)"')


def stems(text: str) -> list[str]:
    """The same words and stems that checklist matching compares."""
    return [stem(w) for w in phrase_words(text)]


def fts_query(query: str) -> str:
    """FTS5 syntax from what a trainer types: words (all must occur) and "quoted phrases"."""
    parts = []
    for phrase in _QUOTED.findall(query):
        s = stems(phrase)
        if s:
            parts.append('"' + " ".join(s) + '"')
    rest = _QUOTED.sub(" ", query)
    parts += [f'"{s}"' for s in stems(rest)]
    return " ".join(parts)


def wanted_stems(query: str) -> set[str]:
    """The stems a query asks for, phrases and single words alike, for :func:`highlight`."""
    return set(stems(query.replace('"', " ")))


def highlight(text: str, wanted: set[str]) -> str:
    """Markdown bold on the words of ``text`` whose stems are ``wanted``."""
    return _WORD.sub(lambda m: f"**{m.group()}**" if stem(norm(m.group())) in wanted else m.group(), text)

"""Masking personal data in Russian text: pure functions.

Used on transcript excerpts that leave the review screens (exports, shared
clips). Masks phone numbers, e-mails, passport, SNILS, OMS policy and card
numbers, and dates of birth; leaves what a clinic call needs to stay
readable: prices, times, appointment dates, room numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = {
    "phone": "[телефон]",
    "email": "[e-mail]",
    "passport": "[паспорт]",
    "snils": "[СНИЛС]",
    "policy": "[полис]",
    "card": "[карта]",
    "birth": "[дата рождения]",
}

_SEP = r"[\s\-‐–.]?"
PATTERNS: list[tuple[str, re.Pattern]] = [
    ("email", re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")),
    # SNILS: 123-456-789 01 (the check digits make it unlike a phone)
    ("snils", re.compile(r"(?<!\d)\d{3}[\-\s]\d{3}[\-\s]\d{3}[\-\s]\d{2}(?!\d)")),
    # card: 16 digits in groups of four (Luhn checked below)
    ("card", re.compile(r"(?<!\d)\d{4}(?:[\s\-]?\d{4}){3}(?!\d)")),
    # OMS policy: 16 digits in one run
    ("policy", re.compile(r"(?<!\d)\d{16}(?!\d)")),
    # phones: +7 / 8, then 10 digits in any grouping with spaces, dashes, brackets
    (
        "phone",
        re.compile(
            r"(?<![\d\w])(?:\+7|8)" + _SEP + r"\(?\d{3}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?!\d)"
        ),
    ),
    # a bare 10-digit mobile: 916 123-45-67 (starts with 9)
    ("phone", re.compile(r"(?<![\d\w])\(?9\d{2}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?!\d)")),
    # passport series and number: 45 10 123456, 4510 123456
    ("passport", re.compile(r"(?<!\d)\d{2}\s?\d{2}\s№?\s?\d{6}(?!\d)")),
    # a date of birth: a date right after words that say so (only the date is masked)
    (
        "birth",
        re.compile(
            r"(?i)(?:рождения|родился|родилась|д\.\s?р\.)[\s:,]{1,3}"
            r"(?P<pii>\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}"
            r"|\d{1,2}\s+(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
            r"\s+\d{4}(?:\s*(?:г\.|года))?)"
        ),
    ),
]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    text: str


def find(text: str) -> list[Span]:
    """Every piece of personal data in ``text``, left to right, no overlaps."""
    spans: list[Span] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            group = "pii" if "pii" in pattern.groupindex else 0
            start, end = m.span(group)
            if kind == "card" and not _luhn(re.sub(r"\D", "", m.group(group))):
                continue
            if any(start < s.end and s.start < end for s in spans):
                continue
            spans.append(Span(kind, start, end, m.group(group)))
    return sorted(spans, key=lambda s: s.start)


def redact(text: str) -> str:
    out, pos = [], 0
    for s in find(text):
        out.append(text[pos : s.start])
        out.append(MASK[s.kind])
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def word_hits(words: list[str]) -> list[tuple[str, int, int]]:
    """(kind, first, last) word indexes covering each piece of personal data.

    ASR splits a phone number into several words ("+7", "916", "123-45-67");
    the words are joined as they read, searched, and mapped back.
    """
    text, bounds = "", []
    for w in words:
        piece = w if w[:1].isspace() else " " + w
        bounds.append((len(text), len(text) + len(piece)))
        text += piece
    hits = []
    for s in find(text):
        idx = [i for i, (a, b) in enumerate(bounds) if a < s.end and s.start < b]
        if idx:
            hits.append((s.kind, idx[0], idx[-1]))
    return hits


def redact_words(words: list[str]) -> list[str]:
    """The words with personal data masked: the first word of a hit carries the mask, the rest go empty."""
    out = list(words)
    for kind, i, j in word_hits(words):
        out[i] = " " + MASK[kind]
        for k in range(i + 1, j + 1):
            out[k] = ""
    return out

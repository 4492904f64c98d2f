"""Masking personal data in Russian text: pure functions.

Used on everything that leaves the review screens (exports, shared clips).
Masks phone numbers (mobile, landline with or without the city code),
e-mails, passport (digits or "серия … номер …"), SNILS (formatted, or 11
digits after the word or with a valid check number), OMS policy and card
numbers (16 digits in any grouping: Luhn tells a card), and dates of birth;
leaves what a clinic call needs to stay readable: prices, times,
appointment dates, room and ticket numbers.
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
_GROUP_SEP = r"[\s\-‐–]"  # between the groups of a number said or typed in parts
PATTERNS: list[tuple[str, re.Pattern]] = [
    ("email", re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")),
    # SNILS: 123-456-789 01 (the check digits make it unlike a phone)
    ("snils", re.compile(r"(?<!\d)\d{3}[\-\s]\d{3}[\-\s]\d{3}[\-\s]\d{2}(?!\d)")),
    # SNILS written as one run of 11 digits, right after the word
    ("snils", re.compile(r"(?i)снилс\S{0,3}[\s:№#]{0,4}(?P<pii>\d{11})(?!\d)")),
    # 16 digits in any grouping: a card (Luhn checked below) or an OMS policy
    ("card", re.compile(r"(?<!\d)\d{4}(?:[\s\-]?\d{4}){3}(?!\d)")),
    # passport in words: "серия 4512 номер 345678", "серия 45 12, № 345678"
    (
        "passport",
        re.compile(r"(?i)серия[\s:]{0,3}(?P<pii>\d{2}\s?\d{2}[\s,]{0,3}(?:номер|№|н\.)?[\s:]{0,3}\d{6})(?!\d)"),
    ),
    # phones: +7 / 8, then 10 digits in any grouping with spaces, dashes, brackets
    (
        "phone",
        re.compile(
            r"(?<![\d\w])(?:\+7|8)" + _SEP + r"\(?\d{3}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?!\d)"
        ),
    ),
    # a bare 10-digit number with a Russian area or mobile code (3xx, 4xx, 8xx, 9xx):
    # 916 123-45-67, (495) 123-45-67, 495 123 45 67
    (
        "phone",
        re.compile(r"(?<![\d\w])\(?[3489]\d{2}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?!\d)"),
    ),
    # a local number without the city code: 123-45-67, 123 45 67 (separators required)
    ("phone", re.compile(r"(?<![\d\w.,:])\d{3}" + _GROUP_SEP + r"\d{2}" + _GROUP_SEP + r"\d{2}(?![\d\w.,:])")),
    # passport series and number: 45 10 123456, 4510 123456
    ("passport", re.compile(r"(?<!\d)\d{2}\s?\d{2}\s№?\s?\d{6}(?!\d)")),
    # SNILS as a bare run of 11 digits whose check number holds (checked below)
    ("snils", re.compile(r"(?<![\d\w])\d{11}(?![\d\w])")),
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


def _snils_ok(digits: str) -> bool:
    """The SNILS check number: the first nine digits weighted 9..1, summed, mod 101 (100 reads 00)."""
    total = sum(int(d) * w for d, w in zip(digits[:9], range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return f"{0 if total in (100, 101) else total:02d}" == digits[9:]


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
            digits = re.sub(r"\D", "", m.group(group))
            if kind == "card" and not _luhn(digits):
                kind_here = "policy"  # 16 digits that are no card: an OMS policy, in whatever grouping
            else:
                kind_here = kind
            if kind == "snils" and m.group(0).isdigit() and not _snils_ok(digits):
                continue
            if any(start < s.end and s.start < end for s in spans):
                continue
            spans.append(Span(kind_here, start, end, m.group(group)))
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

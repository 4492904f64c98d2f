"""Word error rate for Russian transcripts, with one normalization for all.

Reference and hypothesis go through the same ``RUSSIAN`` transform: lower
case, ё→е, digits spelled out as words (so "18" and "восемнадцать" agree),
punctuation and hyphens removed. Without it, WER measures spelling habits
rather than recognition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jiwer
from num2words import num2words


class _SpellNumbers(jiwer.AbstractTransform):
    _number = re.compile(r"\d+")

    def process_string(self, s: str) -> str:
        return self._number.sub(lambda m: " " + num2words(int(m.group()), lang="ru") + " ", s)


class _YoToYe(jiwer.AbstractTransform):
    def process_string(self, s: str) -> str:
        return s.replace("ё", "е")


RUSSIAN = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        _YoToYe(),
        _SpellNumbers(),
        jiwer.SubstituteRegexes({r"[-‐–—№]": " "}),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


def normalize(text: str) -> str:
    """The text as WER sees it: one string of normalized words."""
    return " ".join(RUSSIAN(text)[0])


@dataclass(frozen=True)
class WerResult:
    wer: float
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int


def wer(reference: str, hypothesis: str) -> WerResult:
    if not normalize(reference):
        raise ValueError("the reference has no words after normalization; WER is undefined")
    out = jiwer.process_words(
        reference,
        hypothesis if normalize(hypothesis) else "",
        reference_transform=RUSSIAN,
        hypothesis_transform=RUSSIAN,
    )
    return WerResult(
        wer=out.wer,
        substitutions=out.substitutions,
        deletions=out.deletions,
        insertions=out.insertions,
        reference_words=out.hits + out.substitutions + out.deletions,
    )


@dataclass(frozen=True)
class CorpusWer:
    errors: int
    words: int
    lines: int

    @property
    def wer(self) -> float | None:
        return self.errors / self.words if self.words else None


def corpus_wer(pairs) -> CorpusWer:
    """WER over many (reference, hypothesis) pairs: errors summed over reference words.

    A reference with no words (a line a reviewer emptied) is skipped; an
    empty hypothesis (a line the recognizer never heard) is all deletions.
    """
    errors = words = lines = 0
    for ref, hyp in pairs:
        try:
            r = wer(ref, hyp or "")
        except ValueError:
            continue
        errors += r.substitutions + r.deletions + r.insertions
        words += r.reference_words
        lines += 1
    return CorpusWer(errors, words, lines)

"""Finding checklist phrases in an imperfect Russian transcript: pure functions.

A phrase is found the way a listener would find it:
- inflection does not matter: words are compared by Snowball stems
  (записала / записал / записать);
- ASR misspellings are tolerated by fuzzy similarity of stems (rapidfuzz);
- a word split in two or two words run together are aligned as one
  ("терапевтурсокуловой" holds "терапевту Соколовой");
- one filler word may sit inside a phrase ("позвоните, пожалуйста, сами"),
  but never a negation, and short words must match exactly, so near-misses
  that change the meaning ("звоните в понедельник", "вам неудобно") are not
  taken for the phrase.
Every match keeps the words it used, their speaker and timings, and a
similarity in [0, 1] that the scorer compares with its thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from rapidfuzz.distance import Indel

from qa_review.core.domain import Transcript

_stemmer = Stemmer.Stemmer("russian")
_WORD = re.compile(r"[\w]+", re.UNICODE)
NEGATIONS = frozenset({"не", "ни", "нет", "нельзя"})
SHORT = 3  # stems this short must match exactly: "сам" is not "нам"
MAX_GAPS = 1  # filler words allowed inside a phrase
GAP_PENALTY = 0.05
CANDIDATE_FLOOR = 0.6  # first-word similarity below this is not worth aligning
MISSING_BELOW = 0.5  # a phrase word this unlike the token is missing
MISSING_COST = 0.5  # ... and takes off half its weight
JOINED_FLOOR = 0.8  # split or merged words must be this close to count at all


def norm(word: str) -> str:
    return "".join(_WORD.findall(word.lower().replace("ё", "е")))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


@dataclass(frozen=True)
class Token:
    text: str  # as the transcript has it
    norm: str
    speaker: str
    start: float
    end: float
    turn: int  # index of the turn among this speaker's turns

    @property
    def stem(self) -> str:
        return stem(self.norm)


def tokenize(transcript: Transcript) -> list[Token]:
    """Word tokens of every turn; a written message's words share its time."""
    out: list[Token] = []
    turns: dict[str, int] = {}
    for seg in transcript.segments:
        turn = turns.get(seg.speaker, 0)
        turns[seg.speaker] = turn + 1
        if seg.words:
            for w in seg.words:
                for piece in _WORD.findall(w.text):
                    n = norm(piece)
                    if n:
                        out.append(Token(piece, n, seg.speaker, w.start, w.end, turn))
        else:
            for piece in _WORD.findall(seg.text):
                n = norm(piece)
                if n:
                    out.append(Token(piece, n, seg.speaker, seg.start, seg.end, turn))
    return out


def phrase_words(phrase: str) -> tuple[str, ...]:
    return tuple(n for n in (norm(p) for p in _WORD.findall(phrase)) if n)


def _negates(a: str, b: str) -> bool:
    """ "удобно" / "неудобно": a negating prefix flips the meaning."""
    for x, y in ((a, b), (b, a)):
        if x.startswith("не") and (x[2:] == y or stem(x[2:]) == stem(y)):
            return True
    return False


@lru_cache(maxsize=262144)
def word_similarity(a: str, b: str) -> float:
    """Similarity of two normalized words (or runs of words written together)."""
    if a == b:
        return 1.0
    sa, sb = stem(a), stem(b)
    if sa == sb:
        return 1.0
    if min(len(sa), len(sb)) <= SHORT:
        return 0.0
    if _negates(a, b):
        return 0.0
    return max(Indel.normalized_similarity(sa, sb), Indel.normalized_similarity(a, b))


@lru_cache(maxsize=262144)
def joined_similarity(a: str, b: str) -> float:
    """Similarity where one side is two words run together.

    Stems are no use here (Snowball reads "вам"+"его" as an inflection of
    "вам"), so whole strings are compared, and only close ones count.
    """
    if abs(len(a) - len(b)) > max(2, len(a) // 5) or _negates(a, b):
        return 0.0
    s = Indel.normalized_similarity(a, b)
    return s if s >= JOINED_FLOOR else 0.0


@dataclass(frozen=True)
class Match:
    phrase: str
    similarity: float
    tokens: tuple[Token, ...]

    @property
    def speaker(self) -> str:
        return self.tokens[0].speaker

    @property
    def start(self) -> float:
        return self.tokens[0].start

    @property
    def end(self) -> float:
        return self.tokens[-1].end

    @property
    def words(self) -> str:
        return " ".join(t.text for t in self.tokens)


def _credit(weight: float, similarity: float) -> float:
    """A word's contribution: a word that is not there at all costs, so a
    phrase with a word missing ("записать вас" vs "записаны, спасибо") is not
    a borderline match but a miss."""
    return weight * (similarity if similarity >= MISSING_BELOW else -MISSING_COST)


def _align(pw: tuple[str, ...], tokens: list[Token], j0: int) -> tuple[float, int] | None:
    """Best alignment of phrase words ``pw`` starting at token ``j0``.

    Returns (similarity, end index exclusive). Dynamic programming over
    (phrase position, token position, gaps used); moves are 1:1, a phrase
    word against two tokens (split), two phrase words against one token
    (merged), or skipping one non-negation filler token inside the phrase.
    """
    n = len(pw)
    weights = [max(2, len(w)) for w in pw]
    total = float(sum(weights))
    limit = min(len(tokens), j0 + n + 2 + MAX_GAPS)
    best: dict[tuple[int, int, int], float] = {(0, j0, 0): 0.0}
    result: tuple[float, int] | None = None
    for i in range(n + 1):
        for j in range(j0, limit + 1):
            for g in range(MAX_GAPS + 1):
                v = best.get((i, j, g))
                if v is None:
                    continue
                if i == n:
                    score = max(0.0, v / total - GAP_PENALTY * g)
                    if result is None or score > result[0]:
                        result = (score, j)
                    continue
                if j >= limit:
                    continue
                moves = [(i + 1, j + 1, _credit(weights[i], word_similarity(pw[i], tokens[j].norm)))]
                if j + 1 < limit and not {tokens[j].norm, tokens[j + 1].norm} & NEGATIONS:
                    moves.append(
                        (
                            i + 1,
                            j + 2,
                            _credit(weights[i], joined_similarity(pw[i], tokens[j].norm + tokens[j + 1].norm)),
                        )
                    )
                if i + 1 < n:
                    moves.append(
                        (
                            i + 2,
                            j + 1,
                            _credit(weights[i] + weights[i + 1], joined_similarity(pw[i] + pw[i + 1], tokens[j].norm)),
                        )
                    )
                for ni, nj, add in moves:
                    key = (ni, nj, g)
                    if best.get(key, -1.0) < v + add:
                        best[key] = v + add
                if 0 < i and g < MAX_GAPS and tokens[j].norm not in NEGATIONS:
                    key = (i, j + 1, g + 1)
                    if best.get(key, -1.0) < v:
                        best[key] = v
    return result


def find(phrase: str, tokens: list[Token], floor: float = 0.5) -> list[Match]:
    """Every place ``phrase`` may have been said, best first (similarity ≥ floor).

    ``tokens`` are already narrowed to the speaker and time window asked for.
    """
    pw = phrase_words(phrase)
    if not pw or not tokens:
        return []
    matches: list[Match] = []
    for j0, tok in enumerate(tokens):
        first = max(
            word_similarity(pw[0], tok.norm),
            joined_similarity(pw[0], tok.norm + tokens[j0 + 1].norm) if j0 + 1 < len(tokens) else 0.0,
            joined_similarity(pw[0] + pw[1], tok.norm) if len(pw) > 1 else 0.0,
        )
        if first < CANDIDATE_FLOOR:
            continue
        aligned = _align(pw, tokens, j0)
        if aligned and aligned[0] >= floor:
            sim, end = aligned
            matches.append(Match(phrase, round(min(1.0, sim), 3), tuple(tokens[j0:end])))
    matches.sort(key=lambda m: (-m.similarity, m.start))
    # one match per stretch of speech: drop ones overlapping a better one
    kept: list[Match] = []
    for m in matches:
        if not any(m.start < k.end and k.start < m.end for k in kept):
            kept.append(m)
    return kept

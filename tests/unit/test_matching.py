"""Phrase matching on transcripts as ASR writes them (table-driven)."""

import pytest

from qa_review.core.matching import Token, find, norm


def tokens(text, speaker="operator", t0=0.0, step=0.4):
    return [Token(w, norm(w), speaker, t0 + i * step, t0 + i * step + 0.3, 0) for i, w in enumerate(text.split())]


FOUND = [
    # inflection
    ("записала вас", "Я записал вас на завтра"),
    ("записать вас", "Записала вас на завтра"),
    ("клиника здоровье", "Клиника, здоровья, здравствуйте"),
    # ASR misspelling
    ("здравствуйте", "здравствуете меня зовут"),
    ("меня зовут", "меня зовуд Анна"),
    # punctuation and ё/е
    ("вы придёте", "Вы придете?"),
    # split and merged words
    ("клиника", "кли ника здоровье"),
    ("к терапевту соколовой", "к терапевтурсокуловой кабинет"),
    ("клиника здоровье", "клиниказдоровья здравствуйте"),
    # one filler word inside the phrase
    ("позвоните сами", "позвоните, пожалуйста, сами"),
]

NOT_FOUND = [
    ("позвоните сами", "звоните в понедельник"),  # near-miss that changes the meaning
    ("позвоните сами", "позвоните нам"),
    ("вам удобно", "вам не удобно"),  # negation
    ("вам удобно", "вам неудобно"),
    ("дам вам его номер", "дам вам номер талона"),
    ("записала вас", "спасибо до свидания"),
    ("записать вас", "вы записаны спасибо"),  # a whole word missing is a miss, not borderline
]


@pytest.mark.parametrize("phrase, text", FOUND)
def test_found(phrase, text):
    best = find(phrase, tokens(text))[0]
    assert best.similarity >= 0.85, (best.words, best.similarity)


@pytest.mark.parametrize("phrase, text", NOT_FOUND)
def test_not_found(phrase, text):
    matches = find(phrase, tokens(text))
    assert not matches or matches[0].similarity < 0.72, (matches[0].words, matches[0].similarity)


def test_match_records_words_speaker_and_times():
    best = find("меня зовут", tokens("здравствуйте меня зовут Анна", speaker="operator", t0=10.0))[0]
    assert best.words == "меня зовут"
    assert best.speaker == "operator"
    assert (best.start, best.end) == pytest.approx((10.4, 11.1))


def test_every_occurrence_is_found_once():
    matches = find("спасибо", tokens("спасибо большое до свидания спасибо"))
    assert [m.start for m in matches] == pytest.approx([0.0, 1.6])

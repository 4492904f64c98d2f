import pytest

from qa_review.core.wer import normalize, wer


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Записала Вас!", "записала вас"),
        ("Ещё раз, всё.", "еще раз все"),
        ("на 10:30", "на десять тридцать"),
        ("кабинет №12", "кабинет двенадцать"),
        ("2200 рублей", "две тысячи двести рублей"),
        ("как-то — так", "как то так"),
        ("  «Здоровье»  ", "здоровье"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_wer_counts_after_normalization():
    r = wer("Записала вас на десять тридцать.", "записала вас на 10:30")
    assert r.wer == 0 and r.reference_words == 5


def test_wer_counts_errors():
    r = wer("да удобно спасибо", "да неудобно")
    assert (r.substitutions, r.deletions, r.insertions) == (1, 1, 0)
    assert r.wer == pytest.approx(2 / 3)


def test_empty_hypothesis_is_all_deletions():
    assert wer("да удобно", "").wer == 1.0


def test_empty_reference_is_refused():
    with pytest.raises(ValueError, match="reference"):
        wer(" ... ", "да")

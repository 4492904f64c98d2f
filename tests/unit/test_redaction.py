"""Personal data masked; prices, times and appointment dates kept."""

import pytest

from qa_review.core.redaction import find, redact

MASKED = [
    ("Мой номер +7 916 123-45-67, перезвоните", "+7 916 123-45-67", "phone"),
    ("звоните 8 (916) 123-45-67", "8 (916) 123-45-67", "phone"),
    ("телефон 89161234567", "89161234567", "phone"),
    ("+79031239876 это я", "+79031239876", "phone"),
    ("мобильный 916 555 33 44", "916 555 33 44", "phone"),
    ("пишите на maria.ivanova@mail.ru", "maria.ivanova@mail.ru", "email"),
    ("паспорт 45 10 123456 выдан", "45 10 123456", "passport"),
    ("серия и номер 4510 123456", "4510 123456", "passport"),
    ("СНИЛС 112-233-445 95", "112-233-445 95", "snils"),
    ("полис ОМС 7700000012345678", "7700000012345678", "policy"),
    ("карта 4111 1111 1111 1111", "4111 1111 1111 1111", "card"),
    ("дата рождения 12.03.1985", "12.03.1985", "birth"),
    ("я родилась 5 мая 1990 года", "5 мая 1990 года", "birth"),
    # landlines, with and without the city code
    ("рабочий 495 123-45-67, спросите Ольгу", "495 123-45-67", "phone"),
    ("звоните (495) 123-45-67", "(495) 123-45-67", "phone"),
    ("8 495 123 45 67 — регистратура", "8 495 123 45 67", "phone"),
    ("городской 812 555 12 12", "812 555 12 12", "phone"),
    ("домашний 123-45-67 после шести", "123-45-67", "phone"),
    ("домашний 123 45 67", "123 45 67", "phone"),
    # OMS policies in any grouping (16 digits that are no card)
    ("полис 7700 0000 1234 5678", "7700 0000 1234 5678", "policy"),
    ("полис 7700-0000-1234-5678", "7700-0000-1234-5678", "policy"),
    ("номер полиса 77000000 12345678", "77000000 12345678", "policy"),
    ("оплата 4111 1111 1111 1112 не прошла", "4111 1111 1111 1112", "policy"),
    # SNILS with and without separators
    ("СНИЛС 11223344595", "11223344595", "snils"),
    ("снилс: 11223344595", "11223344595", "snils"),
    ("СНИЛС 112 233 445 95", "112 233 445 95", "snils"),
    ("вот номер 11223344595 запишите", "11223344595", "snils"),  # no word, but the check number holds
    # passport series and number in words
    ("паспорт серия 4512 номер 345678", "4512 номер 345678", "passport"),
    ("серия 45 12, номер 345678", "45 12, номер 345678", "passport"),
    ("серия 4512 № 345678", "4512 № 345678", "passport"),
]

KEPT = [
    "Ультразвуковое исследование стоит 2200 рублей",
    "стоимость 2 200 ₽, со скидкой 1 980 руб.",
    "записала вас на 10:30, кабинет 12",
    "приём 12.11.2026 в 9 часов",
    "в субботу 14 ноября с 9 до 15",
    "анализы с 8:00 до 11:00, натощак",
    "номер талона 123456",
    "кабинет 495, второй этаж",
    "приём с 10-30 до 12-45",
    "стоимость 12 500 рублей, скидка 10 %",
    "анализ 2 раза в 12 часов",
    "код подтверждения 123 45",
    "номер заказа 11223344596",  # 11 digits whose check number fails: not a SNILS
    "серия приёмов из 10 сеансов",
    "версия 1.2.3, сборка 2026.11.24",
]


@pytest.mark.parametrize("text, piece, kind", MASKED)
def test_personal_data_is_masked(text, piece, kind):
    spans = find(text)
    assert [(s.kind, s.text) for s in spans] == [(kind, piece)]
    assert piece not in redact(text)


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_clinic_numbers_stay(text):
    assert redact(text) == text


def test_several_kinds_in_one_line():
    text = "Иванова, д.р. 01.02.1980, тел. +7 (926) 555-00-11, почта ivanova@ya.ru, приём в 10:30"
    assert redact(text) == "Иванова, д.р. [дата рождения], тел. [телефон], почта [e-mail], приём в 10:30"


def test_a_number_split_over_asr_words_is_masked_word_by_word():
    from qa_review.core.redaction import redact_words, word_hits

    words = [" мой", " телефон", " +7", " 916", " 123-45-67", " запишите"]
    assert word_hits(words) == [("phone", 2, 4)]
    assert redact_words(words) == [" мой", " телефон", " [телефон]", "", "", " запишите"]

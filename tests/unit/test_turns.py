from qa_review.core.domain import Segment, Word
from qa_review.core.turns import activity, clean_channel, collapse_repeats, merge_channels, split_turns


def words(*spec):
    return [Word(s, e, " " + t) for s, e, t in spec]


def texts(ws):
    return [w.text.strip() for w in ws]


def test_loop_of_one_word_is_cut_to_two():
    ws = words(*[(i, i + 0.5, "да") for i in range(8)], (9, 9.5, "хорошо"))
    assert texts(collapse_repeats(ws)) == ["да", "да", "хорошо"]


def test_loop_of_a_phrase_is_cut_and_punctuation_ignored():
    phrase = [(0, 1, "спасибо"), (1, 2, "за"), (2, 3, "звонок.")]
    ws = words(*[(a + 3 * k, b + 3 * k, t) for k in range(5) for a, b, t in phrase])
    assert texts(collapse_repeats(ws)) == ["спасибо", "за", "звонок."] * 2


def test_normal_speech_is_untouched():
    ws = words((0, 1, "да"), (1, 2, "да,"), (2, 3, "записала"), (3, 4, "вас"))
    assert collapse_repeats(ws) == ws


def test_turns_split_at_pauses():
    ws = words((0, 0.5, "алло"), (0.6, 1.0, "да"), (3.0, 3.5, "слушаю"))
    turns = split_turns("operator", ws)
    assert [(t.start, t.end, t.text) for t in turns] == [(0, 1.0, "алло да"), (3.0, 3.5, "слушаю")]


def test_hallucinated_subtitle_credit_is_dropped():
    segs = [
        Segment("", 0, 2, "Добрый день.", tuple(words((0, 1, "Добрый"), (1, 2, "день.")))),
        Segment("", 30, 32, "Продолжение следует...", tuple(words((30, 31, "Продолжение"), (31, 32, "следует...")))),
    ]
    out = clean_channel("client", segs)
    assert [s.text for s in out] == ["Добрый день."] and out[0].speaker == "client"


def test_activity_merges_close_words_and_caps_stretched_ones():
    ws = words((0, 0.4, "a"), (0.5, 0.9, "b"), (2.0, 9.0, "long"))
    spans = activity("operator", ws)
    assert [(a.start, a.end) for a in spans] == [(0.0, 0.9), (2.0, 3.5)]


def test_channels_merged_by_time_with_speakers_kept():
    op = split_turns("operator", words((0, 1, "здравствуйте"), (5, 6, "конечно")))
    cl = split_turns("client", words((2, 3, "запишите"), (5.5, 6.5, "подождите")))
    t = merge_channels("c1", [("operator", op), ("client", cl)], 7.0, "ru")
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("operator", "здравствуйте"),
        ("client", "запишите"),
        ("operator", "конечно"),
        ("client", "подождите"),
    ]
    assert {a.speaker for a in t.activity} == {"operator", "client"}
    assert t.duration_s == 7.0


def test_crosstalk_words_are_dropped_and_real_overlap_kept():
    import numpy as np

    from qa_review.core.turns import drop_crosstalk

    rate = 1000
    own = np.zeros(4 * rate)
    other = np.zeros(4 * rate)
    other[0:rate] = 0.5  # 0-1 s: the other side talks, we hear its echo
    own[0:rate] = 0.01
    own[2 * rate : 3 * rate] = 0.4  # 2-3 s: both talk at once, both loud
    other[2 * rate : 3 * rate] = 0.5
    seg = Segment("client", 0.1, 2.9, "эхо наш", tuple(words((0.1, 0.9, "эхо"), (2.1, 2.9, "наш"))))
    out = drop_crosstalk([seg], own, other, rate)
    assert [w.text.strip() for w in out[0].words] == ["наш"] and out[0].text == "наш"
    assert drop_crosstalk([Segment("client", 0.1, 0.9, "эхо", tuple(words((0.1, 0.9, "эхо"))))], own, other, rate) == []

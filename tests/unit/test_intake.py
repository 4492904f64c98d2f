from qa_review.core.intake import Settling


def test_a_file_still_growing_waits_until_it_has_not_changed_for_the_settle_time():
    s = Settling(settle_s=10)
    assert s.ready({"a.wav": (100, 1000.0)}, now=1001) == []
    assert s.ready({"a.wav": (200, 1005.0)}, now=1006) == []  # grew
    assert s.ready({"a.wav": (200, 1005.0)}, now=1012) == []  # unchanged for 6 s, written 7 s ago
    assert s.ready({"a.wav": (200, 1005.0)}, now=1016) == ["a.wav"]  # unchanged since 1006


def test_an_old_file_is_taken_at_once_and_an_empty_one_never():
    s = Settling(settle_s=10)
    assert s.ready({"old.wav": (5, 100.0), "empty.wav": (0, 100.0)}, now=1000) == ["old.wav"]


def test_a_file_that_disappears_is_forgotten():
    s = Settling(settle_s=10)
    s.ready({"a.wav": (1, 995.0)}, now=1000)
    s.ready({}, now=1001)
    assert s.ready({"a.wav": (1, 1000.5)}, now=1002) == []  # back, new: it waits again

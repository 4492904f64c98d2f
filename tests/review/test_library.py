"""Clips, collections, sharing, masking and export."""

import pytest

from qa_review.asr.audio import probe
from qa_review.core.domain import Interval, Segment, Transcript, Word
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.services import exports, ingest, library, search
from qa_review.services.transcription import save_transcript
from tests.audio_factory import write_turns
from tests.conftest import PIPELINE


@pytest.fixture
def phone_call(world, tmp_path):
    """An audio call of petr's where the client dictates a phone number."""
    write_turns(tmp_path / "audio" / "call-pii.wav", [(0, 0.0, 3.0), (1, 4.0, 9.0)], seconds=10.0)
    (tmp_path / "audio" / "call-pii.json").write_text(
        '{"call_id": "call-pii", "operator": "petr.volkov", "started_at": "2026-11-05T10:00:00"}'
    )
    ingest.ingest(world.db, PIPELINE, tmp_path / "audio", world.settings)
    words = [
        Word(4.0 + i * 0.5, 4.4 + i * 0.5, " " + w)
        for i, w in enumerate(["мой", "телефон", "+7", "916", "123-45-67", "запишите"])
    ]
    t = Transcript(
        "call-pii",
        (
            Segment(
                "operator",
                0.2,
                2.8,
                "Клиника Здоровье, здравствуйте",
                (Word(0.2, 1.0, " Клиника"), Word(1.1, 1.9, " Здоровье,"), Word(2.0, 2.8, " здравствуйте")),
            ),
            Segment("client", 4.0, 6.9, "мой телефон +7 916 123-45-67 запишите", tuple(words)),
        ),
        (Interval("operator", 0.2, 2.8), Interval("client", 4.0, 6.9)),
        10.0,
    )
    save_transcript(world.db, PIPELINE, t, model="test", settings={}, processing_s=0)
    return "call-pii"


def test_trainer_builds_a_collection_and_shares_it(world, phone_call, tmp_path):
    cid = library.create_collection(world.db, world.trainer, "Как не надо", "примеры")
    library.add_clip(world.db, world.trainer, cid, phone_call, 3.5, 7.5, ["greet"], "bad", "диктует номер")
    with pytest.raises(QAReviewError, match="does not fit"):
        library.add_clip(world.db, world.trainer, cid, phone_call, 8.0, 30.0, [], "bad")
    with pytest.raises(PermissionDenied):
        library.add_clip(world.db, world.anna, cid, phone_call, 0, 1, [], "good")
    assert library.collections(world.db, world.anna) == []
    with pytest.raises(PermissionDenied):
        library.clips(world.db, world.anna, cid)

    library.share(world.db, world.trainer, cid, "user:anna")
    (shared,) = library.collections(world.db, world.anna)
    assert shared["clips"] == 1
    (clip,) = library.clips(world.db, world.anna, cid)
    assert clip["lines"][0]["text"] == "мой телефон [телефон] запишите"  # masked for operators
    assert "123-45-67" in library.clips(world.db, world.trainer, cid)[0]["lines"][0]["text"]


def test_operator_search_reaches_shared_clips_masked(world, phone_call):
    assert search.search(world.db, world.anna, "телефон") == []  # petr's call, not shared yet
    cid = library.create_collection(world.db, world.trainer, "Номера")
    library.add_clip(world.db, world.trainer, cid, phone_call, 3.5, 7.5, [], "bad")
    library.share(world.db, world.trainer, cid, "team:A")
    (hit,) = search.search(world.db, world.anna, "телефон")
    assert hit.call_id == "call-pii" and "[телефон]" in hit.text and "123" not in hit.text


def test_export_cuts_clips_bleeps_and_masks(world, phone_call, tmp_path):
    cid = library.create_collection(world.db, world.trainer, "Экспорт")
    library.add_clip(world.db, world.trainer, cid, phone_call, 3.5, 7.5, ["greet"], "bad", "номер")
    files = library.export_collection(world.db, world.trainer, cid, tmp_path / "out")
    audio, doc = files
    assert probe(audio).duration_s == pytest.approx(4.0, abs=0.05)
    text = doc.read_text(encoding="utf-8")
    assert "[телефон]" in text and "123-45-67" not in text and audio.name in text


def test_bleep_replaces_the_spoken_number(world, phone_call, tmp_path):
    import numpy as np

    from qa_review.asr.audio import decode_channels

    cid = library.create_collection(world.db, world.trainer, "Бип")
    library.add_clip(world.db, world.trainer, cid, phone_call, 3.5, 7.5, [], "bad")
    audio, _ = library.export_collection(world.db, world.trainer, cid, tmp_path / "out")
    client = decode_channels(audio, 16000)[1]

    def dominant(a, b):
        part = client[int(a * 16000) : int(b * 16000)]
        spectrum = np.abs(np.fft.rfft(part))
        return np.fft.rfftfreq(len(part), 1 / 16000)[spectrum.argmax()]

    assert dominant(0.6, 1.4) == pytest.approx(500, abs=20)  # the client's own "voice"
    assert dominant(1.6, 2.8) == pytest.approx(1000, abs=20)  # the number, bleeped


def test_redacted_json_export_masks_the_words_too(world, phone_call):
    text = exports.export_transcripts(world.db, world.admin, "json", phone_call)
    assert "123-45-67" not in text and "916" not in text and "[телефон]" in text

"""Coverage and unheard stretches survive storage; low coverage flags the call."""

from datetime import UTC, datetime

from qa_review.core.domain import CallMeta, Coverage, Interval, Segment, Transcript, Word
from qa_review.core.permissions import User as _User  # noqa: E402
from qa_review.services.transcription import save_transcript, transcript_info
from qa_review.storage import open_storage
from tests.conftest import PIPELINE

ADMIN_USER = _User("root", "admin")


def _call(db, cid):
    db.calls.add(
        CallMeta(cid, "anna", datetime(2026, 11, 2, 9, tzinfo=UTC)),
        kind="audio",
        source_path=f"/x/{cid}.wav",
        sha256=cid,
    )


def _transcript(cid, coverage, unheard=()):
    words = (Word(0.5, 0.9, " алло"),)
    return Transcript(
        cid, (Segment("operator", 0.5, 0.9, "алло", words),), duration_s=10.0, coverage=coverage, unheard=unheard
    )


def test_coverage_and_unheard_round_trip_and_low_coverage_is_flagged():
    db = open_storage(":memory:")
    _call(db, "c1")
    t = _transcript(
        "c1", (Coverage("operator", 20.0, 19.8, 1.5), Coverage("client", 10.0, 6.0)), (Interval("client", 4.0, 8.0),)
    )
    save_transcript(db, PIPELINE, t, model="m", settings={}, processing_s=1.0)
    back = db.transcripts.get("c1")
    assert back.coverage == t.coverage and back.unheard == t.unheard
    info = transcript_info(db, ADMIN_USER, "c1")
    assert info["coverage"]["client"]["covered_s"] == 6.0
    assert [f["code"] for f in info["flags"]] == ["low_coverage"]
    assert "client: 60%" in info["flags"][0]["detail"]


def test_a_good_transcript_clears_the_flag_and_little_speech_is_not_judged():
    db = open_storage(":memory:")
    _call(db, "c1")
    save_transcript(
        db, PIPELINE, _transcript("c1", (Coverage("client", 10.0, 5.0),)), model="m", settings={}, processing_s=1.0
    )
    assert db.calls.flags(["c1"])
    save_transcript(
        db,
        PIPELINE,
        _transcript("c1", (Coverage("client", 10.0, 9.8), Coverage("operator", 2.0, 0.5))),
        model="m",
        settings={},
        processing_s=1.0,
    )
    assert db.calls.flags(["c1"]) == {}

"""A mono call's recovered roles: uncertain ones send verdicts to a person; a reviewer swaps
the roles or moves one line, the change is audited and the call is scored again."""

import json

import pytest

from qa_review.core import roles
from qa_review.core.domain import VOICE_1, VOICE_2, Diarization, Interval, Segment, Transcript, Word
from qa_review.core.errors import InvalidTransition, PermissionDenied, QAReviewError
from qa_review.services import ingest, review, scoring
from qa_review.services.transcription import save_transcript
from tests.audio_factory import write_wav
from tests.conftest import PIPELINE


def seg(speaker, start, text, step=0.4):
    words = tuple(Word(start + i * step, start + i * step + 0.3, " " + w) for i, w in enumerate(text.split()))
    return Segment(speaker, start, words[-1].end, text, words)


def voices(*segs, separation=0.3):
    acts = tuple(Interval(s.speaker, s.start, s.end) for s in segs)
    return Transcript("mono-1", tuple(segs), acts, 30.0, diarization=Diarization(separation, 0.4))


# An inbound call on which the roles came out the wrong way round: the patient
# spoke first and said nothing a cue list knows, the operator's words are plain.
WRONG_WAY = voices(
    seg(VOICE_1, 0.5, "да да добрый день"),
    seg(VOICE_2, 3.0, "клиника здоровье здравствуйте слушаю"),
    seg(VOICE_1, 6.0, "запишите меня к терапевту"),
    seg(VOICE_2, 9.0, "завтра в десять вам удобно"),
)


@pytest.fixture
def mono_call(world, tmp_path):
    write_wav(tmp_path / "mono" / "mono-1.wav", channels=1, seconds=30.0)
    (tmp_path / "mono" / "mono-1.json").write_text(
        json.dumps({"call_id": "mono-1", "operator": "anna.smirnova", "started_at": "2026-11-05T10:00:00+03:00"})
    )
    ingest.ingest(world.db, PIPELINE, tmp_path / "mono", world.settings)

    def put(t: Transcript, direction="inbound"):
        t = roles.assign(t, direction=direction)
        save_transcript(world.db, PIPELINE, t, model="test", settings={}, processing_s=0)
        scoring.score_calls(world.db, PIPELINE, world.settings, call_ids=["mono-1"], rescore=True)
        return world.card_id("mono-1")

    return put


def items(world, card):
    return {i["item_id"]: i for i in world.db.scorecards.items(card)}


def test_low_confidence_sends_only_the_verdicts_that_depend_on_who_spoke_to_review(world, mono_call):
    card = mono_call(WRONG_WAY)
    t = world.db.transcripts.get("mono-1")
    assert t.diarization.confidence < world.settings.mono_min_confidence
    got = items(world, card)
    greet = got["greet_clinic"]
    assert greet["verdict"] == "review"
    assert json.loads(greet["evidence"])[0]["code"] == "roles_uncertain"
    # nobody said "позвоните сами": true whoever the operator is, so it stands
    assert got["no_shift_responsibility"]["verdict"] == "pass"


def test_a_confident_call_is_scored_on_its_roles(world, mono_call):
    sure = voices(
        seg(VOICE_1, 0.5, "клиника здоровье здравствуйте меня зовут анна чем могу помочь"),
        seg(VOICE_2, 5.0, "я хочу записаться к терапевту"),
        seg(VOICE_1, 8.0, "как к вам обращаться"),
    )
    card = mono_call(sure)
    assert world.db.transcripts.get("mono-1").diarization.confidence >= 0.8
    got = items(world, card)
    assert got["greet_clinic"]["verdict"] == "pass"
    assert all(
        json.loads(i["evidence"])[:1] == [] or json.loads(i["evidence"])[0].get("code") != "roles_uncertain"
        for i in got.values()
    )


def test_swapping_the_roles_rescores_the_call_and_is_audited(world, mono_call):
    card = mono_call(WRONG_WAY)
    before = world.db.transcripts.get("mono-1")
    assert before.segments[0].speaker == "operator"  # the patient, taken for the operator
    change = review.swap_roles(world.db, world.sup_a, "mono-1", settings=world.settings)
    after = world.db.transcripts.get("mono-1")
    assert [s.speaker for s in after.segments] == ["client", "operator", "client", "operator"]
    assert after.diarization.corrected_by == "sup.a"
    assert {a.speaker for a in after.activity if a.start < 2} == {"client"}
    # the machine's labels are kept beside the reviewer's
    assert world.db.transcripts.moved_lines("mono-1") == {0: "operator", 1: "client", 2: "operator", 3: "client"}
    got = items(world, card)
    assert got["greet_clinic"]["verdict"] == "pass"  # the roles are a person's now: no longer uncertain
    assert json.loads(got["greet_clinic"]["evidence"])[0]["speaker"] == "operator"
    assert change.rescored and change.rescored[0][0] == "clinic-inbound"
    actions = [(e["action"], e["target"]) for e in world.db.audit.for_call("mono-1")]
    assert ("speakers", "roles swapped") in actions and ("rescore", "speakers changed") in actions
    review.swap_roles(world.db, world.sup_a, "mono-1", settings=world.settings)
    assert world.db.transcripts.moved_lines("mono-1") == {}  # swapped back: as the machine had it


def test_moving_one_line_keeps_a_reviewers_verdict(world, mono_call):
    card = mono_call(WRONG_WAY)
    rev = world.row(card)["revision"]
    review.set_verdict(world.db, world.sup_a, card, "farewell", "fail", "не попрощалась", rev)
    review.move_line(world.db, world.sup_a, "mono-1", 1, "operator", settings=world.settings)
    t = world.db.transcripts.get("mono-1")
    assert [s.speaker for s in t.segments] == ["operator", "operator", "operator", "client"]
    assert world.db.transcripts.moved_lines("mono-1") == {1: "client"}  # what the machine said
    review.move_line(world.db, world.sup_a, "mono-1", 1, "client", settings=world.settings)
    assert world.db.transcripts.moved_lines("mono-1") == {}  # back as the machine had it
    assert review.move_line(world.db, world.sup_a, "mono-1", 1, "client", settings=world.settings).rescored == []
    got = items(world, card)
    assert got["farewell"]["verdict"] == "fail" and got["farewell"]["comment"] == "не попрощалась"
    with pytest.raises(QAReviewError, match="operator or the client"):
        review.move_line(world.db, world.sup_a, "mono-1", 0, "mixed", settings=world.settings)


def test_only_the_operators_supervisor_may_change_speakers(world, mono_call):
    mono_call(WRONG_WAY)
    for user in (world.anna, world.petr, world.sup_b, world.trainer):
        with pytest.raises(PermissionDenied):
            review.swap_roles(world.db, user, "mono-1", settings=world.settings)
        with pytest.raises(PermissionDenied):
            review.move_line(world.db, user, "mono-1", 0, "client", settings=world.settings)
    assert world.db.transcripts.moved_lines("mono-1") == {}


def test_a_final_scorecard_is_not_rescored_and_written_calls_have_no_speakers_to_swap(world, mono_call):
    sure = voices(
        seg(VOICE_1, 0.5, "клиника здоровье здравствуйте меня зовут анна чем могу помочь"),
        seg(VOICE_2, 5.0, "я хочу записаться к терапевту"),
    )
    card = mono_call(sure)
    for item_id, i in items(world, card).items():
        if i["verdict"] == "review":
            review.set_verdict(world.db, world.sup_a, card, item_id, "pass", "прослушано", world.row(card)["revision"])
    review.finalize(world.db, world.sup_a, card, world.row(card)["revision"])
    score = world.row(card)["score"]
    change = review.swap_roles(world.db, world.sup_a, "mono-1", settings=world.settings)
    assert change.final == ["clinic-inbound"] and change.rescored == []
    assert world.row(card)["score"] == score
    with pytest.raises(InvalidTransition):
        review.swap_roles(world.db, world.sup_a, "chat-anna", settings=world.settings)


def test_the_threshold_and_the_switch_come_from_the_environment():
    from qa_review.core.errors import ConfigError
    from qa_review.services.settings import from_env

    s = from_env({"QA_REVIEW_MONO_MIN_CONFIDENCE": "0.65", "QA_REVIEW_DIARIZE": "0"})
    assert s.mono_min_confidence == 0.65 and s.diarize is False
    assert from_env({}).diarize is True and from_env({}).mono_min_confidence == 0.8
    with pytest.raises(ConfigError, match="from 0.5"):
        from_env({"QA_REVIEW_MONO_MIN_CONFIDENCE": "0.3"})
    with pytest.raises(ConfigError, match="expected 1 or 0"):
        from_env({"QA_REVIEW_DIARIZE": "maybe"})


def test_a_stricter_threshold_sends_a_confident_call_to_review(world, mono_call):
    from dataclasses import replace

    sure = voices(
        seg(VOICE_1, 0.5, "клиника здоровье здравствуйте меня зовут анна чем могу помочь"),
        seg(VOICE_2, 5.0, "я хочу записаться к терапевту"),
    )
    world.settings = replace(world.settings, mono_min_confidence=1.0)
    card = mono_call(sure)
    assert items(world, card)["greet_clinic"]["verdict"] == "review"

"""Phone calls that arrive as their transcript: scored like recordings, never counted as the recognizer's work."""

import json

from qa_review.services import review, workflow
from tests.conftest import PIPELINE


def text_call(call_id="text-1", pause_s=0.0):
    """An inbound booking call of anna's; the operator keeps the patient waiting ``pause_s`` before the farewell."""
    lines = [
        ("operator", 0.5, 4.0, "Клиника Здоровье, здравствуйте, меня зовут Анна."),
        ("client", 4.5, 7.0, "Здравствуйте, хочу записаться к терапевту."),
        ("operator", 7.5, 10.0, "Как к вам обращаться? На какой день вам удобно?"),
        ("client", 10.5, 12.0, "Мария, на пятницу."),
        ("operator", 12.5 + pause_s, 16.0 + pause_s, "Записала вас на пятницу к терапевту. Всего доброго!"),
    ]
    return {
        "call_id": call_id,
        "operator": "anna.smirnova",
        "started_at": "2026-11-05T11:00:00+03:00",
        "direction": "inbound",
        "queue": "registry",
        "segments": [{"speaker": s, "start": a, "end": b, "text": t} for s, a, b, t in lines],
    }


def ingest_text(w, tmp_path, **kw):
    path = tmp_path / "text" / f"{kw.get('call_id', 'text-1')}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(text_call(**kw), ensure_ascii=False), encoding="utf-8")
    return workflow.ingest_then_score(w.db, PIPELINE, path, w.settings)


def test_a_call_transcript_is_scored_at_ingest_on_its_timings(world, tmp_path):
    report, scored = ingest_text(world, tmp_path, call_id="slow", pause_s=45)
    assert report.added == ["slow"] and [c for c, _, _ in scored.scored] == ["slow"]
    call = review.call_for(world.db, world.sup_a, "slow")
    assert call["call"]["kind"] == "transcript" and call["call"]["channel"] == "phone"
    card = call["scorecards"][0][1]
    assert card.checklist_id == "clinic-inbound"
    verdicts = {i.item_id: i.verdict for i in card.items}
    assert verdicts["greet_clinic"] == verdicts["farewell"] == verdicts["confirm_booking"] == "pass"
    assert verdicts["hold_limit"] == "fail"  # the 45 s pause, measured from the transcript's times
    assert world.db.calls.waiting(now=0) == 0  # nothing for the recognizer

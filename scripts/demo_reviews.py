"""Give the demo database three months of review work, so every screen and trend has something.

    .venv/bin/python scripts/demo_reviews.py demo/work/demo.db

The history (calls and chats of ``scripts/make_demo_history.py``), dated as
it would have happened: operators assess some of their own calls first
(Pyotr rates himself generously in September, less so later); the
supervisor decides the items left to a person, writes feedback and
finalizes a day or two after each call, except the last week's, which wait
in her queue; operators dispute a failed item now and then, and she upholds
or rejects. Then the recorded November calls as before: most finalized (two
stay in the queue), a dispute by petr left open; a coaching goal; the
example library. Runs once: a database that already has reviewed scorecards
is left as it is. Everything goes through the service layer, as the app
would do it; only the times are given.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.services import (  # noqa: E402
    accounts,
    coaching,
    library,
    review,
    self_assessment,
)
from qa_review.services.database import open_database  # noqa: E402

LEFT_IN_QUEUE = {"demo-09-interrupt", "demo-10-mono"}
POOR = {"demo-06-rude", "demo-08-careless", "demo-mail-02"}
OPERATORS = {"anna.smirnova": "anna", "ivan.petrov": "ivan", "petr.volkov": "petr", "olga.sokolova": "olga"}
BACKLOG_FROM = "2026-11-17"  # history calls from here on are still waiting for review
# How often each operator assesses their own call first, and how likely they
# are to call a failed item passed, by month.
SELF_RATE = {"anna": 0.6, "ivan": 0.3, "petr": 0.5, "olga": 0.5}
OPTIMISM = {"2026-09": {"petr": 0.7}, "2026-10": {"petr": 0.4}, "2026-11": {"petr": 0.15}}


def main(db_path: str) -> None:
    db = open_database(db_path)
    sup = accounts.get(db, "svetlana")
    queue = review.review_queue(db, sup, status=("auto",))
    if len(queue) < len(review.review_queue(db, sup, status=("auto", "in_review", "final", "disputed", "resolved"))):
        print("demo reviews: already in place")
        return
    history(db, sup, [r for r in queue if not r["call_id"].startswith("demo-")])
    recorded(db, sup, [r for r in queue if r["call_id"].startswith("demo-")])
    goal_and_library(db, sup)
    print(
        "demo reviews: three months of scorecards finalized with self-assessments and disputes, "
        "a dispute left open, a goal set, two collections shared"
    )


def history(db, sup, queue: list[dict]) -> None:
    rnd = random.Random(11)
    users = {op: accounts.get(db, name) for op, name in OPERATORS.items()}
    disputed = set()  # (operator, month): one dispute each
    calls = []
    for row in queue:
        detail = review.call_for(db, sup, row["call_id"])
        calls.append((detail["call"]["started_at"], row, detail))
    for started, row, detail in sorted(calls, key=lambda c: c[0]):
        at = datetime.fromisoformat(started)
        month, operator = started[:7], detail["call"]["operator"]
        me = users[operator]
        card = next(sc for r, sc, _ in detail["scorecards"] if r["id"] == row["id"])
        if rnd.random() < SELF_RATE[me.username]:
            optimism = OPTIMISM[month].get(me.username, 0.15)
            own = {
                i.item_id: "pass"
                if i.verdict == "review" or (i.verdict == "fail" and rnd.random() < optimism)
                else i.verdict
                for i in card.items
            }
            self_assessment.submit(db, me, row["id"], own, now=at + timedelta(hours=2))
        if started >= BACKLOG_FROM:
            continue
        poor = (card.score or 0) < 75
        when = at + timedelta(days=1, hours=rnd.randrange(0, 6))
        rev = row["revision"]
        for item in card.items:
            if item.verdict == "review":
                verdict = "fail" if poor and item.kind == "manual" else "pass"
                comment = "сухо и торопливо" if verdict == "fail" else "прослушано супервизором"
                rev = review.set_verdict(db, sup, row["id"], item.item_id, verdict, comment, rev, now=when)
        note = "Не забывайте представиться и попрощаться." if poor else "Хорошая работа."
        rev = review.set_feedback(db, sup, row["id"], note, rev, now=when)
        review.finalize(db, sup, row["id"], rev, now=when)
        failed = [i.item_id for i in card.items if i.verdict == "fail"]
        if failed and (operator, month) not in disputed and rnd.random() < 0.5:
            disputed.add((operator, month))
            item = rnd.choice(failed)
            opened = when + timedelta(days=1)
            (dispute_id,) = review.open_disputes(
                db, me, row["id"], {item: "Пациент сам завершил разговор, я не успел(а)"}, now=opened
            )
            uphold = len(disputed) % 2 == 0
            reply = (
                "Переслушала, вы правы: засчитано." if uphold else "Переслушала: пункт не выполнен, оценка остаётся."
            )
            review.resolve_dispute(db, sup, dispute_id, uphold, reply, now=opened + timedelta(days=1))


def recorded(db, sup, queue: list[dict]) -> None:
    for row in sorted(queue, key=lambda r: r["call_id"]):
        if row["call_id"] in LEFT_IN_QUEUE:
            continue
        rev = row["revision"]
        card = next(sc for r, sc, _ in review.call_for(db, sup, row["call_id"])["scorecards"] if r["id"] == row["id"])
        for item in card.items:
            if item.verdict != "review":
                continue
            poor = row["call_id"] in POOR
            verdict = "fail" if poor or item.kind != "manual" else "pass"
            comment = "грубый тон" if poor and item.kind == "manual" else "прослушано супервизором"
            rev = review.set_verdict(db, sup, row["id"], item.item_id, verdict, comment, rev)
        rev = review.set_feedback(
            db,
            sup,
            row["id"],
            "Спасибо за звонок! Следите за приветствием и прощанием." if row["call_id"] in POOR else "Хорошая работа.",
            rev,
        )
        review.finalize(db, sup, row["id"], rev)
    petr = accounts.get(db, "petr")
    card = review.call_for(db, petr, "demo-08-careless")["scorecards"][0][0]["id"]
    review.open_disputes(db, petr, card, {"no_interrupting": "Клиент начал говорить раньше, я его не перебивал"})


def goal_and_library(db, sup) -> None:
    coaching.set_goal(
        db,
        sup,
        "petr.volkov",
        ["greet_hello", "farewell", "no_shift_responsibility"],
        0.9,
        date.today() + timedelta(days=30),
        "Здороваться, прощаться, не отправлять пациента звонить самому",
    )
    trainer = accounts.get(db, "trainer")
    cid = library.create_collection(
        db, trainer, "Как не надо: перекладывание на пациента", "Оператор отправляет пациента звонить врачу самому"
    )
    library.add_clip(
        db,
        trainer,
        cid,
        "demo-06-rude",
        12.0,
        20.0,
        ["no_shift_responsibility", "no_personal_contact"],
        "bad",
        "«Позвоните сами доктору» и личный номер врача",
    )
    good = library.create_collection(db, trainer, "Образцовая запись на приём", "")
    library.add_clip(
        db,
        trainer,
        good,
        "demo-01-booking",
        0.0,
        16.0,
        ["greet_clinic", "greet_name", "patient_name"],
        "good",
        "Приветствие и имя пациента",
    )
    library.share(db, trainer, cid, "all")
    library.share(db, trainer, good, "all")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "demo" / "work" / "demo.db"))

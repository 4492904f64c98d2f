"""Give the demo database a month of review work, so every screen has something.

    .venv/bin/python scripts/demo_reviews.py demo/work/demo.db

As the demo supervisor: decide the items left to a person and finalize most
scorecards (two stay in the queue); as operator petr: dispute an item; set
a coaching goal; start the example library. Runs once: a database that
already has reviewed scorecards is left as it is. Everything goes through
the service layer, as the app would do it.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.services import (  # noqa: E402
    accounts,
    coaching,
    library,
    review,  # noqa: E402
)
from qa_review.services.database import open_database  # noqa: E402

LEFT_IN_QUEUE = {"demo-09-interrupt", "demo-10-mono"}
POOR = {"demo-06-rude", "demo-08-careless", "demo-mail-02"}


def main(db_path: str) -> None:
    db = open_database(db_path)
    sup = accounts.get(db, "svetlana")
    queue = review.review_queue(db, sup, status=("auto",))
    if len(queue) < len(review.review_queue(db, sup, status=("auto", "in_review", "final", "disputed", "resolved"))):
        print("demo reviews: already in place")
        return
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
    print("demo reviews: scorecards finalized, a dispute opened, a goal set, two collections shared")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "demo" / "work" / "demo.db"))

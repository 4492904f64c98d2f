"""Write the demo clinic's history as text: three months of calls and chats with their transcripts.

    .venv/bin/python scripts/make_demo_history.py [OUT_DIR]   (default demo/work/history)

Synthesizing and transcribing a few hundred calls would make ``make demo``
take an hour, so the history is generated as transcripts: each call is a
JSON file with the call's metadata and ``segments`` (ingested as a phone
call with no recording, never counted in ASR figures), each chat a written
conversation. The calls are answered inbound calls of ``demo/call-log.csv``
under their own ids, numbers, queues, operators and times, so the call log
and the scorecards describe the same calls.

Each operator has a habit profile per month, so the trends have a story:
Anna is steady and good; Ivan keeps patients on hold; Pyotr starts poorly
(no greeting or farewell, sends patients to call the doctor themselves) and
improves after October's coaching; Olga is good until November, when she
starts interrupting and forgetting to say goodbye. Deterministic (seeded).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "demo" / "call-log.csv"
CALLS_PER_MONTH = 10  # per operator
CHATS_PER_MONTH = 3
LAST_DAY = "2026-11-21"  # the recorded demo calls are the newest; the week after is the review backlog
WORDS_PER_S = 2.6

NAMES = {"anna.smirnova": "Анна", "ivan.petrov": "Иван", "petr.volkov": "Пётр", "olga.sokolova": "Ольга"}
FEMALE = {"anna.smirnova", "olga.sokolova"}
PATIENTS = [
    "Мария Петровна",
    "Игорь Николаевич",
    "Елена Сергеевна",
    "Алексей Викторович",
    "Наталья Ивановна",
    "Сергей Павлович",
    "Ольга Дмитриевна",
    "Виктор Андреевич",
    "Татьяна Юрьевна",
    "Дмитрий Олегович",
]
DOCTORS = [
    ("терапевту", "терапевта", "Соколовой"),
    ("кардиологу", "кардиолога", "Белову"),
    ("неврологу", "невролога", "Ковалёвой"),
    ("эндокринологу", "эндокринолога", "Морозову"),
    ("гинекологу", "гинеколога", "Лебедевой"),
    ("окулисту", "окулиста", "Новиковой"),
]
DAYS = ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу"]
TIMES = ["9:30", "10:00", "11:15", "12:40", "14:00", "15:30", "16:20", "18:00"]
STUDIES = ["УЗИ брюшной полости", "общий анализ крови", "ЭКГ", "МРТ колена"]


@dataclass(frozen=True)
class Habits:
    """How likely an operator is to do each thing on a call (0-1)."""

    clinic: float = 0.95
    name: float = 0.9
    hello: float = 0.95
    ask_name: float = 0.9
    confirm: float = 0.95
    farewell: float = 0.95
    long_hold: float = 0.05
    interrupt: float = 0.03
    shift: float = 0.02
    late_chat: float = 0.05


HABITS = {
    "anna.smirnova": {m: Habits() for m in ("2026-09", "2026-10", "2026-11")},
    "ivan.petrov": {m: Habits(long_hold=0.35, ask_name=0.8) for m in ("2026-09", "2026-10", "2026-11")},
    "petr.volkov": {
        "2026-09": Habits(clinic=0.6, name=0.5, hello=0.6, ask_name=0.5, confirm=0.7, farewell=0.4, shift=0.3),
        "2026-10": Habits(clinic=0.8, name=0.7, hello=0.8, ask_name=0.7, confirm=0.85, farewell=0.7, shift=0.15),
        "2026-11": Habits(clinic=0.9, name=0.85, hello=0.9, ask_name=0.85, confirm=0.9, farewell=0.9, shift=0.05),
    },
    "olga.sokolova": {
        "2026-09": Habits(),
        "2026-10": Habits(farewell=0.85, interrupt=0.1),
        "2026-11": Habits(farewell=0.55, interrupt=0.4, late_chat=0.35),
    },
}


class Dialog:
    """Lines in time order; each line lasts as long as its words take to say."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.lines: list[dict] = []
        self.t = round(rnd.uniform(0.3, 1.2), 1)

    def say(self, speaker: str, text: str, *, pause: float | None = None, cut_in: bool = False) -> None:
        gap = pause if pause is not None else self.rnd.uniform(0.3, 0.9)
        start = self.t + gap
        if cut_in and self.lines:  # starts while the patient is still talking
            prev = self.lines[-1]
            start = max(prev["start"] + 0.5, prev["end"] - 1.5)
        end = start + max(1.0, len(text.split()) / WORDS_PER_S)
        self.lines.append({"speaker": speaker, "start": round(start, 2), "end": round(end, 2), "text": text})
        self.t = max(self.t, end)


def opening(rnd: random.Random, h: Habits, operator: str) -> str:
    parts = []
    if rnd.random() < h.clinic:
        parts.append("Клиника Здоровье")
    if rnd.random() < h.hello:
        parts.append(rnd.choice(["здравствуйте", "добрый день"]))
    if rnd.random() < h.name:
        parts.append(rnd.choice([f"меня зовут {NAMES[operator]}", NAMES[operator]]))
    if not parts:
        return "Алло, слушаю."
    text = ", ".join(parts)
    return text[0].upper() + text[1:] + ". Чем могу помочь?"


def booking_call(rnd: random.Random, h: Habits, operator: str) -> tuple[list[dict], list[str]]:
    d = Dialog(rnd)
    dative, genitive, surname = rnd.choice(DOCTORS)
    patient = rnd.choice(PATIENTS)
    day, time = rnd.choice(DAYS), rnd.choice(TIMES)
    done = "Записала" if operator in FEMALE else "Записал"
    kind = rnd.choices(["booking", "reschedule", "price"], weights=[6, 2, 2])[0]
    d.say("operator", opening(rnd, h, operator))
    if kind == "price":
        study = rnd.choice(STUDIES)
        d.say("client", f"Здравствуйте. Сколько стоит {study}? И можно ли записаться?")
        d.say("operator", f"{study[0].upper() + study[1:]} стоит от двух до четырёх тысяч рублей, зависит от объёма.")
    elif kind == "reschedule":
        d.say("client", f"Здравствуйте, мне нужно перенести запись к {dative}.")
    else:
        d.say("client", f"Здравствуйте, я хотел бы записаться к {dative}.")
    if rnd.random() < h.ask_name:
        d.say("operator", rnd.choice(["Подскажите, как к вам обращаться?", "Как вас зовут?"]))
        d.say("client", f"{patient}.")
    interrupt = rnd.random() < h.interrupt
    d.say("operator", rnd.choice(["На какой день вам удобно?", "Какую дату рассматриваете?"]))
    d.say("client", rnd.choice(["Лучше в конце недели, после обеда, если можно.", "Как можно скорее, хоть завтра."]))
    if rnd.random() < h.long_hold:
        d.say("operator", "Минуту, посмотрю расписание.")
        d.say("operator", f"Спасибо за ожидание. В {day} есть время в {time}, вам удобно?", pause=rnd.uniform(35, 70))
    else:
        d.say("operator", f"В {day} есть время в {time}, вам удобно?", cut_in=interrupt)
    d.say("client", "Да, подходит.")
    if rnd.random() < h.shift:
        d.say("operator", f"Лучше позвоните сами в кабинет {genitive}, там всё скажут.")
        d.say("client", "Хорошо, попробую.")
    elif rnd.random() < h.confirm:
        d.say("operator", f"{done} вас на {day}, {time}, к {dative} {surname}, кабинет {rnd.randrange(2, 40)}.")
        d.say("client", "Спасибо.")
    else:
        d.say("operator", "Хорошо, ждём.")
        d.say("client", "Спасибо.")
    if kind == "price":
        d.say("operator", "Также рекомендую приём терапевта в тот же день.")
    if rnd.random() < h.farewell:
        d.say(
            "operator", rnd.choice(["Всего доброго!", "Спасибо за звонок, до свидания!", "Будем ждать, хорошего дня!"])
        )
    else:
        d.say("operator", "Ага, всё.")
    return d.lines, ["price", "booking"] if kind == "price" else [kind]


def chat(rnd: random.Random, h: Habits, operator: str, at: datetime) -> dict:
    dative, _, surname = rnd.choice(DOCTORS)
    day, time = rnd.choice(DAYS), rnd.choice(TIMES)
    done = "Записала" if operator in FEMALE else "Записал"
    t = at
    messages = []

    def msg(speaker: str, text: str, after_s: float) -> None:
        nonlocal t
        t = t + timedelta(seconds=after_s)
        messages.append({"speaker": speaker, "at": t.isoformat(), "text": text})

    msg("client", f"Добрый день! Можно записаться к {dative}?", 0)
    first = rnd.uniform(1200, 2400) if rnd.random() < h.late_chat else rnd.uniform(60, 600)
    hello = "Здравствуйте! Клиника «Здоровье»" if rnd.random() < h.clinic else "Добрый день"
    msg("operator", f"{hello}, {NAMES[operator]}. В {day} есть время в {time}, вам удобно?", first)
    msg("client", "Да, подойдёт.", rnd.uniform(60, 400))
    if rnd.random() < h.shift:
        msg("operator", "Стоимость на сайте, позвоните сами в регистратуру.", rnd.uniform(60, 300))
    else:
        msg("operator", f"{done} вас на {day}, {time}, к {dative} {surname}.", rnd.uniform(60, 300))
    if rnd.random() < h.farewell:
        msg("operator", "Всего доброго!", rnd.uniform(5, 30))
    return messages


def main(out: Path) -> None:
    rnd = random.Random(7)
    with open(LOG, encoding="utf-8") as f:
        rows = [
            r
            for r in csv.DictReader(f, delimiter=";")
            if r["status"] == "answered"
            and r["direction"] == "inbound"
            and r["operator"]
            and not r["call_id"].startswith("demo-")
            and r["started_at"] < LAST_DAY
        ]
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for operator, months in HABITS.items():
        for month, habits in months.items():
            mine = [r for r in rows if r["operator"] == operator and r["started_at"].startswith(month)]
            for r in rnd.sample(mine, CALLS_PER_MONTH):
                lines, tags = booking_call(rnd, habits, operator)
                call = {
                    "call_id": r["call_id"],
                    "operator": operator,
                    "started_at": r["started_at"],
                    "direction": "inbound",
                    "phone": r["phone"],
                    "queue": r["queue"],
                    "tags": tags,
                    "segments": lines,
                }
                (out / f"{r['call_id']}.json").write_text(json.dumps(call, ensure_ascii=False, indent=1), "utf-8")
                written += 1
            for k in range(CHATS_PER_MONTH):
                day = datetime.fromisoformat(f"{month}-01T00:00:00+03:00") + timedelta(
                    days=rnd.randrange(0, 20), hours=rnd.randrange(9, 20), minutes=rnd.randrange(60)
                )
                cid = f"chat-{month}-{operator.split('.')[0]}-{k + 1}"
                conv = {
                    "conversation_id": cid,
                    "operator": operator,
                    "started_at": day.isoformat(),
                    "channel": rnd.choice(["chat", "messenger"]),
                    "tags": ["booking"],
                    "messages": chat(rnd, habits, operator, day),
                }
                (out / f"{cid}.json").write_text(json.dumps(conv, ensure_ascii=False, indent=1), "utf-8")
                written += 1
    print(f"demo history: {written} calls and chats in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo" / "work" / "history")

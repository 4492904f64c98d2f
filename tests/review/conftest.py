import json
from datetime import UTC, datetime

import pytest

from qa_review.services import accounts, ingest, scoring
from qa_review.services.settings import REPO_ROOT, Settings
from qa_review.storage import open_storage
from tests.conftest import PIPELINE

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def chat(cid, operator, greet=True):
    hello = "Здравствуйте! Клиника «Здоровье», Анна." if greet else "Да?"
    return {
        "conversation_id": cid,
        "operator": operator,
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "messages": [
            {"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Можно записаться к окулисту?"},
            {
                "speaker": "operator",
                "at": "2026-11-04T19:01:00+03:00",
                "text": hello + " В субботу есть время, вам удобно?",
            },
            {"speaker": "client", "at": "2026-11-04T19:02:00+03:00", "text": "Да"},
            {
                "speaker": "operator",
                "at": "2026-11-04T19:03:00+03:00",
                "text": "Записала вас на субботу. Всего доброго!",
            },
        ],
    }


class World:
    """A small clinic: two teams, their supervisors and operators, two chats."""

    def __init__(self, tmp_path):
        self.settings = Settings(db_path=tmp_path / "qa.db", checklist_dirs=(REPO_ROOT / "checklists",))
        self.db = db = open_storage(self.settings.db_path)
        self.admin = accounts.add_user(db, None, "admin", "admin-pass-1", "admin")
        add = lambda *a, **k: accounts.add_user(db, self.admin, *a, **k)  # noqa: E731
        self.sup_a = add("sup.a", "password-a", "supervisor", team="A")
        self.sup_b = add("sup.b", "password-b", "supervisor", team="B")
        self.trainer = add("trainer", "password-t", "trainer")
        self.anna = add("anna", "password-anna", "operator", team="A", operator_id="anna.smirnova")
        self.petr = add("petr", "password-petr", "operator", team="B", operator_id="petr.volkov")
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "a.json").write_text(json.dumps(chat("chat-anna", "anna.smirnova"), ensure_ascii=False))
        (tmp_path / "in" / "p.json").write_text(
            json.dumps(chat("chat-petr", "petr.volkov", greet=False), ensure_ascii=False)
        )
        ingest.ingest(db, PIPELINE, tmp_path / "in", self.settings)
        scoring.score_calls(db, PIPELINE, self.settings)
        self.card = self.card_id("chat-anna")

    def card_id(self, call_id):
        return self.db.scorecards.for_call(call_id)[0][0]["id"]

    def row(self, card=None):
        return self.db.scorecards.get(card or self.card)

    def verdict(self, item_id, card=None):
        return next(i for i in self.db.scorecards.items(card or self.card) if i["item_id"] == item_id)["verdict"]


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    # Argon2's production cost (~0.1 s a hash) times hundreds of test users
    # is minutes of CI; the algorithm is the same.
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

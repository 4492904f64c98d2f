"""Transcript search: morphology, filters, permissions, corrections."""

import pytest
from click.testing import CliRunner

from qa_review.cli import cli
from qa_review.services import review, search
from tests.review.conftest import T0, World


@pytest.fixture
def world(tmp_path):
    from argon2 import PasswordHasher

    from qa_review.services import accounts

    accounts._hasher, old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), accounts._hasher
    yield World(tmp_path)
    accounts._hasher = old


def ids(hits):
    return sorted({h.call_id for h in hits})


def test_word_forms_match(world):
    # the chats say "Записала вас" and "Можно записаться"
    hits = search.search(world.db, world.admin, "записать")
    assert ids(hits) == ["chat-anna", "chat-petr"]
    assert any("**Записала**" in h.highlighted for h in hits)
    assert ids(search.search(world.db, world.admin, "окулистом")) == ["chat-anna", "chat-petr"]


def test_phrase_and_all_words(world):
    assert ids(search.search(world.db, world.admin, '"записала вас"')) == ["chat-anna", "chat-petr"]
    assert search.search(world.db, world.admin, '"вас записала"') == []
    assert search.search(world.db, world.admin, "записала понедельник") == []


def test_filters(world):
    assert ids(search.search(world.db, world.admin, "записать", operator="anna.smirnova")) == ["chat-anna"]
    assert ids(search.search(world.db, world.admin, "записать", team="B")) == ["chat-petr"]
    assert {h.speaker for h in search.search(world.db, world.admin, "записать", speaker="client")} == {"client"}
    assert search.search(world.db, world.admin, "записать", channel="email") == []
    assert search.search(world.db, world.admin, "записать", date_from="2026-12-01") == []


def test_item_and_final_verdict_filter(world):
    assert search.search(world.db, world.admin, "записать", item_id="greet") == []  # nothing final yet
    rev = review.set_verdict(world.db, world.sup_a, world.card, "tone", "pass", "ok", world.row()["revision"], now=T0)
    review.finalize(world.db, world.sup_a, world.card, rev, now=T0)
    assert ids(search.search(world.db, world.admin, "записать", item_id="greet", verdict="pass")) == ["chat-anna"]
    assert search.search(world.db, world.admin, "записать", item_id="greet", verdict="fail") == []


def test_operator_finds_only_own_calls(world):
    assert ids(search.search(world.db, world.anna, "записать")) == ["chat-anna"]
    assert ids(search.search(world.db, world.sup_b, "записать")) == ["chat-petr"]
    assert ids(search.search(world.db, world.trainer, "записать")) == ["chat-anna", "chat-petr"]


def test_corrected_line_is_found_by_its_new_words(world):
    assert search.search(world.db, world.admin, "офтальмолог") == []
    review.correct_segment(world.db, world.sup_a, "chat-anna", 0, "Можно записаться к офтальмологу?")
    assert ids(search.search(world.db, world.admin, "офтальмолога")) == ["chat-anna"]


def test_cli_search(world):
    out = CliRunner().invoke(
        cli, ["--db", str(world.settings.db_path), "search", "записала", "--operator", "petr.volkov"]
    )
    assert out.exit_code == 0 and "chat-petr" in out.output and "2 line(s)" in out.output  # "записаться" and "Записала"

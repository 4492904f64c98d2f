import json

import pytest
from streamlit.testing.v1 import AppTest

from qa_review.core.permissions import User
from qa_review.core.wer import corpus_wer
from qa_review.services import accounts, ingest, review, scoring, transcription
from qa_review.services.settings import REPO_ROOT
from qa_review.storage import open_storage
from tests.audio_factory import write_wav
from tests.conftest import PIPELINE, FakeTranscriber

APP = str(REPO_ROOT / "qa_review" / "ui" / "app.py")


@pytest.fixture
def app_db(settings, tmp_path, monkeypatch):
    db = open_storage(settings.db_path)
    write_wav(tmp_path / "in" / "call-a.wav", seconds=3.0)
    (tmp_path / "in" / "chat-b.json").write_text(
        json.dumps(
            {
                "conversation_id": "chat-b",
                "operator": "anna",
                "started_at": "2026-11-04T19:00:00+03:00",
                "channel": "chat",
                "messages": [{"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Можно записаться?"}],
            },
            ensure_ascii=False,
        )
    )
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    monkeypatch.setenv("QA_REVIEW_DB", str(settings.db_path))
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    admin = accounts.add_user(db, None, "admin", "admin-pass", "admin")
    accounts.add_user(db, admin, "sup", "sup-password", "supervisor")
    accounts.add_user(db, admin, "anna", "anna-password", "operator", operator_id="anna")
    accounts.add_user(db, admin, "petr", "petr-password", "operator", operator_id="unknown-other")
    return db


SUP = User("sup", "supervisor")
ANNA = User("anna", "operator", operator_id="anna")
TRAINER = User("trainer", "trainer")


@pytest.fixture
def scored_db(app_db, settings):
    scoring.score_calls(app_db, PIPELINE, settings)
    return app_db


def run_app(user=TRAINER, **state):
    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:
        at.session_state["user"] = user
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def test_calls_list_shows_every_call_with_status(app_db):
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "Звонки и переписки"
    table = at.dataframe[0].value
    assert sorted(table["ID"]) == ["call-a", "chat-b"]
    assert set(table["Статус"]) == {"расшифрован"}


def test_english_is_available(app_db):
    at = run_app(lang="en")
    assert at.title[0].value == "Calls and conversations"
    assert "Status" in at.dataframe[0].value.columns


def test_empty_database_says_how_to_ingest(settings, monkeypatch):
    monkeypatch.setenv("QA_REVIEW_DB", str(settings.db_path))
    at = run_app(user=TRAINER)
    assert "qa-review ingest" in at.info[0].value


def test_a_wrong_database_file_is_named_not_a_traceback(tmp_path, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text("just notes\n" * 100)
    monkeypatch.setenv("QA_REVIEW_DB", str(notes))
    at = run_app(user=TRAINER)
    assert not at.exception
    assert f"Файл {notes} — не база данных SQLite" in at.error[0].value


def test_first_start_says_how_to_create_the_admin(settings, monkeypatch):
    monkeypatch.setenv("QA_REVIEW_DB", str(settings.db_path))
    at = run_app(user=None)
    assert "qa-review users add admin --role admin" in at.info[0].value


def test_call_page_shows_player_and_transcript_by_speaker(app_db):
    at = run_app(call_id="call-a")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert at.title[0].value == "call-a"
    speakers = [m.value for m in at.markdown if "**" in m.value]
    assert any("Оператор" in s for s in speakers) and any("Клиент" in s for s in speakers)
    assert len(at.get("audio")) == 1


def test_clicking_a_line_plays_from_its_start(app_db):
    at = run_app(call_id="call-a")
    at.switch_page("screens/call.py").run()
    first = at.button(key="seg-1")
    first.click().run()
    assert not at.exception
    assert at.session_state["seek:call-a"] > 0
    audio = at.get("audio")[0].proto
    assert audio.start_time == int(at.session_state["seek:call-a"]) and audio.autoplay


def test_written_conversation_shows_times_not_a_player(app_db):
    at = run_app(call_id="chat-b")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert len(at.get("audio")) == 0
    assert "Можно записаться?" in [m.value for m in at.markdown]


def test_a_call_known_only_by_its_transcript_says_so_and_shows_offsets(app_db, settings, tmp_path):
    from tests.review.test_text_only_calls import text_call

    (tmp_path / "t.json").write_text(json.dumps(text_call(), ensure_ascii=False), encoding="utf-8")
    assert ingest.ingest(app_db, PIPELINE, tmp_path / "t.json", settings).added == ["text-1"]
    at = run_app(call_id="text-1")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert len(at.get("audio")) == 0 and not at.warning
    assert any("Записи нет" in c.value for c in at.caption)
    assert "00:12" in [m.value for m in at.markdown]  # the farewell's offset, not a wall-clock time


def test_a_call_whose_audio_the_retention_policy_removed_says_so(app_db, settings):
    from datetime import datetime, timedelta

    from qa_review.services import retention

    later = datetime.now(settings.tz) + timedelta(days=70)
    plan = retention.retention(app_db, PIPELINE, settings, months=1, delete=True, now=later)
    assert plan.removed == ["call-a"]
    at = run_app(call_id="call-a")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert len(at.get("audio")) == 0 and not at.warning
    assert "Запись удалена" in at.info[0].value and "Оператор" in " ".join(m.value for m in at.markdown)


def test_unknown_call_in_link_is_reported(app_db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = TRAINER
    at.query_params["call"] = "missing-id"
    at.run()
    at.switch_page("screens/call.py").run()
    assert "missing-id" in at.error[0].value


def test_scorecard_is_shown_beside_the_transcript(scored_db):
    at = run_app(call_id="chat-b")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert at.subheader[1].value == "Оценка по чек-листу"
    labels = [e.label for e in at.expander]
    assert any("Поздоровался" in label and "не выполнено" in label for label in labels)
    assert any("written-chat" in c.value for c in at.caption)


def test_clicking_evidence_highlights_the_words(scored_db):
    at = run_app(call_id="chat-b")
    at.switch_page("screens/call.py").run()
    evidence_buttons = [b for b in at.button if b.key and b.key.startswith("ev-")]
    assert evidence_buttons, "the condition evidence of offer_slot has a time"
    evidence_buttons[0].click().run()
    assert not at.exception
    assert any("orange-background" in m.value and "записаться" in m.value for m in at.markdown)


def test_unscored_call_says_how_to_score(app_db):
    at = run_app(call_id="call-a")
    at.switch_page("screens/call.py").run()
    assert any("qa-review score" in i.value for i in at.info)


def test_checklists_page_lists_valid_and_explains_invalid(tmp_path, monkeypatch, settings):
    import shutil

    from qa_review.services.settings import REPO_ROOT

    folder = tmp_path / "cl"
    shutil.copytree(REPO_ROOT / "checklists", folder)
    (folder / "broken.yaml").write_text("id: broken\ntitle: B\nversion: 0\nsections: []\n")
    monkeypatch.setenv("QA_REVIEW_CHECKLISTS", str(folder))
    monkeypatch.setenv("QA_REVIEW_DB", str(settings.db_path))
    at = run_app(user=TRAINER)
    at.switch_page("screens/checklists.py").run()
    assert not at.exception
    assert any("clinic-inbound" in e.label for e in at.expander)
    assert "broken.yaml:3: version" in at.error[0].value


def test_login_with_wrong_then_right_password(app_db):
    at = run_app(user=None)
    at.text_input(key="login_username").input("anna")
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click().run()
    assert at.error[0].value == "Неверный логин или пароль."
    at.text_input(key="login_password").input("anna-password")
    at.button[0].click().run()
    assert at.session_state["user"].username == "anna"
    assert at.title[0].value == "Звонки и переписки"


def test_operator_sees_only_own_calls_and_is_refused_others(app_db):
    at = run_app(user=ANNA)
    assert list(at.dataframe[0].value["ID"]) == ["chat-b"]
    at.query_params["call"] = "call-a"
    at.switch_page("screens/call.py").run()
    assert "call-a" in at.error[0].value  # not among the calls she may open


def test_supervisor_changes_a_verdict_and_finalizes(scored_db):
    at = run_app(user=SUP, call_id="chat-b")
    at.switch_page("screens/call.py").run()
    at.selectbox(key="v-0-tone").select("pass")
    at.text_input(key="c-0-tone").input("вежливо")
    at.button(key="FormSubmitter:verdict-0-tone-Сохранить").click().run()
    assert not at.exception
    assert "Сохранено" in at.success[0].value
    at.button(key="finalize-0").click().run()
    assert "Оценка завершена" in at.success[0].value
    ((row, sc, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    assert row["status"] == "final" and sc.item("tone").verdict == "pass"


def test_change_without_comment_is_refused_on_the_page(scored_db):
    at = run_app(user=SUP, call_id="chat-b")
    at.switch_page("screens/call.py").run()
    at.selectbox(key="v-0-greet").select("pass")
    at.button(key="FormSubmitter:verdict-0-greet-Сохранить").click().run()
    assert at.error[0].value == "Пункт greet: при изменении вердикта нужен комментарий."


def test_operator_disputes_and_supervisor_upholds(scored_db):
    ((row, _, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    rev = review.set_verdict(scored_db, SUP, row["id"], "tone", "pass", "ok", row["revision"])
    review.finalize(scored_db, SUP, row["id"], rev)
    ((_, before, _),) = review.call_for(scored_db, ANNA, "chat-b")["scorecards"]

    at = run_app(user=ANNA, call_id="chat-b")
    at.switch_page("screens/call.py").run()
    at.multiselect(key="d-items-0").select("greet").run()
    at.text_input(key="d-reason-0-greet").input("я поздоровалась")
    at.button(key="FormSubmitter:dispute-0-Отправить спор").click().run()
    assert "Спор отправлен" in at.success[0].value

    sup = run_app(user=SUP)
    sup.switch_page("screens/disputes.py").run()
    assert "я поздоровалась" in sup.caption[-1].value or any("я поздоровалась" in c.value for c in sup.caption)
    (d,) = review.open_dispute_list(scored_db, SUP)
    sup.text_input(key=f"reply-{d['id']}").input("да, приветствие было")
    sup.button(key=f"dispute.uphold-{d['id']}").click().run()
    assert not sup.exception
    ((row, sc, disputes),) = review.call_for(scored_db, ANNA, "chat-b")["scorecards"]
    assert row["status"] == "resolved" and sc.item("greet").verdict == "pass"
    assert sc.score > before.score


def test_supervisor_lands_on_the_review_queue(scored_db):
    at = run_app(user=SUP)
    assert not at.exception
    assert at.title[0].value == "Очередь проверки"
    assert sorted(at.dataframe[0].value["ID"]) == ["call-a", "chat-b"]  # call-a has no direction: inbound
    assert "Внимание" in at.dataframe[0].value.columns  # recording faults and unrecognized speech show here
    at.toggle[0].set_value(True).run()  # critical failures only: none here
    assert "Очередь пуста." in at.info[0].value


def test_admin_manages_users(app_db):
    at = run_app(user=User("admin", "admin"))
    at.switch_page("screens/users.py").run()
    assert not at.exception
    assert set(at.dataframe[0].value["Логин"]) == {"admin", "sup", "anna", "petr"}
    form = {t.label: t for t in at.text_input}
    form["Логин"].input("olga")
    form["Пароль"].input("long-enough-password-1")
    [b for b in at.button if b.label == "Добавить пользователя"][0].click().run()
    assert not at.exception
    assert [m.value for m in at.success] == ["Пользователь olga добавлен"]
    assert "olga" in set(at.dataframe[0].value["Логин"])


def test_admin_sets_an_operators_spoken_name(app_db):
    at = run_app(user=User("admin", "admin"))
    at.switch_page("screens/users.py").run()
    form = [t for t in at.text_input if t.label == "Имя в разговоре"]
    next(s for s in at.selectbox if s.label == "Логин").set_value("anna")
    form[-1].input("Анна")
    [b for b in at.button if b.label == "Сохранить"][0].click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.loc[table["Логин"] == "anna", "Имя в разговоре"].iloc[0] == "Анна"
    assert accounts.spoken_names(app_db) == {"anna": "Анна"}


@pytest.fixture
def final_db(scored_db):
    ((row, _, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    rev = review.set_verdict(scored_db, SUP, row["id"], "tone", "pass", "ok", row["revision"])
    review.finalize(scored_db, SUP, row["id"], rev)
    review.correct_segment(scored_db, SUP, "chat-b", 0, "Можно записаться к окулисту?")  # not the recognizer's
    heard = scored_db.transcripts.get("call-a").segments[0].text.split()
    review.correct_segment(scored_db, SUP, "call-a", 0, " ".join([*heard[:-1], "другое"]))
    return scored_db


def test_kpi_page_shows_operators_and_exports(final_db):
    at = run_app(user=SUP)
    at.switch_page("screens/kpi.py").run()
    assert not at.exception
    ops = at.dataframe[0].value
    assert list(ops["Оператор"]) == ["anna"] and ops["Проверено звонков"].iloc[0] == 1
    assert "Правила monthly-bonus, версия 1" in at.caption[0].value
    assert len(at.get("download_button")) == 2


def test_operator_sees_own_month(final_db):
    at = run_app(user=ANNA)
    at.switch_page("screens/my_month.py").run()
    assert not at.exception
    assert at.metric[0].label.startswith("Средний балл за 2026-11")
    assert "из минимум 5" in " ".join(c.value for c in at.caption)


def test_dashboards_render_for_supervisor(final_db):
    at = run_app(user=SUP)
    at.switch_page("screens/dashboards.py").run()
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert "Согласие автооценки с итоговой, по пунктам (какие правила доработать)" in titles
    assert "Журнал звонков: потерянные, уровень сервиса, FCR" not in titles  # no call log imported
    wer_table = at.dataframe[0].value
    # the recording's line with its last word corrected; the chat's correction is no ASR error
    (fix,) = [a for a in review.audit_for_call(final_db, SUP, "call-a") if a["action"] == "transcript"]
    alone = corpus_wer([(fix["new"], fix["old"])]).wer
    assert wer_table["WER"].tolist() == [round(alone, 3)] and wer_table["Исправлено строк"].tolist() == [1]


def test_dashboards_chart_the_call_log_once_there_is_one(final_db, settings):
    from datetime import datetime, timedelta

    from qa_review.services import call_log

    when = (datetime.now(settings.tz) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
    log = "call_id,started_at,direction,phone,queue,operator,status,wait_s,talk_s,hold_s\n"
    log += f"in-1,{when},inbound,+79161234567,reg,anna,answered,10,100,20\n"
    log += f"lost-1,{when},inbound,+79160000000,reg,,missed,40,0,0\n"
    call_log.import_call_log(final_db, PIPELINE, log, settings)
    at = run_app(user=SUP)
    at.switch_page("screens/dashboards.py").run()
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert "Журнал звонков: потерянные, уровень сервиса, FCR" in titles and "AHT по месяцам" in titles


def test_operator_cannot_reach_kpis(final_db):
    at = run_app(user=ANNA)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/kpi.py")  # not among the operator's pages


def test_search_page_finds_word_forms_and_opens_the_call(scored_db):
    at = run_app(user=TRAINER)
    at.switch_page("screens/search.py").run()
    at.text_input(key="search_query").input("записаться").run()
    assert not at.exception
    assert "Найдено строк: 1" in at.caption[0].value
    assert any("**записаться**" in m.value for m in at.markdown)
    at.button(key="hit-chat-b-0").click().run()
    assert at.session_state["call_id"] == "chat-b"


def test_goals_page_supervisor_sets_operator_sees(scored_db):
    at = run_app(user=SUP)
    at.switch_page("screens/goals.py").run()
    at.text_input[0].input("anna")
    at.text_input[1].input("greet, farewell")
    at.button(key="FormSubmitter:new_goal-Поставить цель").click().run()
    assert not at.exception and "Цель поставлена" in at.success[0].value
    op = run_app(user=ANNA)
    op.switch_page("screens/goals.py").run()
    assert any("greet, farewell" in m.value and "ещё нет оценок" in m.value for m in op.markdown)


def test_calibration_page_lead_sees_report(scored_db):
    from qa_review.services import calibration

    sid = calibration.create(scored_db, SUP, "Ноябрь", "written-chat", ["chat-b"], ["sup", "other"])
    calibration.rate(scored_db, SUP, sid, "chat-b", "greet", "fail")
    at = run_app(user=SUP)
    at.switch_page("screens/calibration.py").run()
    assert not at.exception
    assert "Ноябрь" in at.subheader[0].value
    assert list(at.dataframe[0].value["Пункт"]) == ["greet"]


def test_library_page_shows_shared_collection_to_operator(scored_db):
    from qa_review.services import library

    cid = library.create_collection(scored_db, TRAINER, "Запись в чате")
    library.add_clip(scored_db, TRAINER, cid, "chat-b", 0, 1, ["offer_slot"], "bad", "нет предложения времени")
    library.share(scored_db, TRAINER, cid, "user:anna")
    at = run_app(user=ANNA)
    at.switch_page("screens/library.py").run()
    assert not at.exception
    assert any("Запись в чате" in e.label for e in at.expander)
    assert any("Можно записаться?" in c.value for c in at.caption)
    assert len(at.get("download_button")) == 0  # the archive is made on request, not on every rerun
    next(b for b in at.button if b.label.startswith("Подготовить коллекцию")).click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 1


def test_calls_list_shows_scores_operators_only_final_ones(scored_db):
    at = run_app(user=SUP)
    at.switch_page("screens/calls.py").run()  # a supervisor starts on the queue
    sup = at.dataframe[0].value.set_index("ID")
    assert sup.loc["chat-b", "Оценка"] == "автооценка" and sup.loc["chat-b", "Балл"] is not None
    op = run_app(user=ANNA).dataframe[0].value.set_index("ID")
    assert op.loc["chat-b", "Оценка"] == ""  # not final yet: the operator does not see it


def test_call_page_shows_coverage_unheard_speech_and_lets_a_supervisor_add_the_line(app_db):
    from dataclasses import replace

    from qa_review.core.domain import Coverage, Interval
    from qa_review.services.transcription import save_transcript

    # the recognizer missed the client at 1.0-2.5 s: what the guard could not restore
    t = app_db.transcripts.get("call-a")
    coverage = (Coverage("operator", 3.0, 2.9), Coverage("client", 3.0, 1.5))
    missed = replace(t, coverage=coverage, unheard=(Interval("client", 1.0, 2.5),))
    save_transcript(app_db, PIPELINE, missed, model="m", settings={}, processing_s=0.0)
    at = run_app(user=SUP, call_id="call-a")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert any("Распознано речи" in c.value and "Клиент 50%" in c.value for c in at.caption)
    assert any("Распознана не вся речь" in w.value for w in at.warning)
    assert any("0:01–0:02" in m.value or "0:01" in m.value for m in at.markdown)
    form_text = next(t for t in at.text_area if t.key == "add-text-call-a")
    form_text.input("Да, удобно")
    at.number_input[0].set_value(1.0)
    at.number_input[1].set_value(2.5)
    save = [b for b in at.button if b.label == "Сохранить"]
    save[-1].click().run()
    assert not at.exception
    segments = [seg.text for seg in app_db.transcripts.get("call-a").segments]
    assert "Да, удобно" in segments


def test_an_operator_is_not_offered_to_add_lines(app_db):
    at = run_app(user=ANNA, call_id="call-a")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert not [t for t in at.text_area if t.key == "add-text-call-a"]


def test_admin_sees_what_failed_and_ingests_it_again(app_db, settings, tmp_path):
    (tmp_path / "late").mkdir()
    broken = tmp_path / "late" / "call-z.wav"
    broken.write_bytes(b"not audio at all")
    ingest.ingest(app_db, PIPELINE, tmp_path / "late", settings)
    at = run_app(user=User("admin", "admin"))
    at.switch_page("screens/failures.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Файл или строка"]) == [str(broken)]
    write_wav(broken, seconds=1.0, freqs=(300.0,))  # copied again
    at.button(key="retry_ingests").click().run()
    assert not at.exception
    assert "Загружено: 1; по-прежнему с ошибкой: 0." in at.success[0].value
    assert "Сбоев нет" in at.success[-1].value
    assert "call-z" in {c["call_id"] for c in app_db.calls.list()}


def test_a_verdict_saved_meanwhile_by_someone_else_is_not_overwritten_unseen(scored_db):
    at = run_app(user=SUP, call_id="chat-b")
    at.switch_page("screens/call.py").run()  # the supervisor reads the scorecard...
    ((row, sc, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    other = User("sup2", "supervisor")  # ...while a colleague saves the same item
    review.set_verdict(scored_db, other, row["id"], "tone", "fail", "грубо", row["revision"])

    at.selectbox(key="v-0-tone").select("pass")
    at.text_input(key="c-0-tone").input("вежливо")
    at.button(key="FormSubmitter:verdict-0-tone-Сохранить").click().run()
    assert not at.exception
    assert "уже сохранил кто-то другой" in at.error[0].value
    ((_, sc, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    assert sc.item("tone").verdict == "fail"  # the colleague's verdict stands

    # The page now shows the colleague's verdict; a deliberate change goes through.
    at.selectbox(key="v-0-tone").select("pass")
    at.text_input(key="c-0-tone").input("всё-таки вежливо")
    at.button(key="FormSubmitter:verdict-0-tone-Сохранить").click().run()
    assert "Сохранено" in at.success[0].value
    ((_, sc, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    assert sc.item("tone").verdict == "pass"


def test_admin_moves_and_disables_users(app_db):
    at = run_app(user=User("admin", "admin"))
    at.switch_page("screens/users.py").run()
    at.selectbox(key="change_who").set_value("sup").run()
    at.text_input(key="change_team-sup").input("A")
    [b for b in at.button if b.label == "Сохранить"][-1].click().run()
    assert not at.exception
    assert [m.value for m in at.success] == ["sup: изменено; прежний сеанс завершён"]
    assert accounts.get(app_db, "sup").team == "A"
    at.selectbox(key="off").set_value("petr")
    [b for b in at.button if b.label == "Отключить"][0].click().run()
    assert [m.value for m in at.success] == ["petr отключён и больше не может войти"]
    assert "petr" not in set(at.dataframe[0].value["Логин"])
    assert accounts.disabled_users(app_db, User("admin", "admin")) == ["petr"]


def test_admin_links_a_single_sign_on_identity(app_db):
    at = run_app(user=User("admin", "admin"))
    at.switch_page("screens/users.py").run()
    at.selectbox(key="change_who").set_value("sup").run()
    at.text_input(key="sso_identity-sup").input("Svetlana@Clinic.ru")
    [b for b in at.button if b.label == "Связать вход"][0].click().run()
    assert not at.exception
    assert [m.value for m in at.success] == ["sup: единый вход связан"]
    assert accounts.get(app_db, "sup").sso_identity == "svetlana@clinic.ru"
    assert "svetlana@clinic.ru" in set(at.dataframe[0].value["Единый вход (e-mail или имя в каталоге)"])


def test_a_demo_account_is_warned_on_every_page(app_db):
    at = run_app(user=User("anna", "operator", operator_id="anna", kind="demo"))
    assert "Демо-учётная запись" in at.sidebar.warning[0].value
    assert not run_app(user=ANNA).sidebar.warning


def test_uncertain_mono_roles_are_shown_and_the_supervisor_swaps_them(app_db, settings, tmp_path):
    from qa_review.core import roles
    from qa_review.core.domain import VOICE_1, VOICE_2, Diarization, Interval, Segment, Transcript, Word

    def seg(speaker, start, text):
        words = tuple(Word(start + i * 0.4, start + i * 0.4 + 0.3, " " + w) for i, w in enumerate(text.split()))
        return Segment(speaker, start, words[-1].end, text, words)

    write_wav(tmp_path / "mono" / "mono-a.wav", channels=1, seconds=12.0)
    (tmp_path / "mono" / "mono-a.json").write_text(
        '{"call_id": "mono-a", "operator": "anna", "started_at": "2026-11-04T10:00:00+03:00"}'
    )
    ingest.ingest(app_db, PIPELINE, tmp_path / "mono", settings)
    segs = (seg(VOICE_1, 0.5, "да добрый день"), seg(VOICE_2, 3.0, "клиника здоровье здравствуйте слушаю"))
    t = Transcript(
        "mono-a",
        segs,
        tuple(Interval(s.speaker, s.start, s.end) for s in segs),
        12.0,
        diarization=Diarization(0.3, 0.4),
    )
    transcription.save_transcript(
        app_db, PIPELINE, roles.assign(t, direction="inbound"), model="test", settings={}, processing_s=0
    )
    at = run_app(user=SUP, call_id="mono-a")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert any("роли определены неуверенно" in w.value for w in at.warning)
    assert app_db.transcripts.get("mono-a").segments[0].speaker == "operator"
    at.button(key="swap-mono-a").click().run()
    assert not at.exception
    assert "Говорящие изменены" in at.success[0].value
    assert [s.speaker for s in app_db.transcripts.get("mono-a").segments] == ["client", "operator"]
    assert any("роли проверены" in i.value for i in at.info)
    assert any("✎" in m.value for m in at.markdown)


def test_a_trainer_tags_a_call_and_the_calls_list_filters_by_it(app_db):
    from qa_review.services import tags

    tags.set_tags(app_db, TRAINER, "chat-b", ["пример"])
    at = run_app(call_id="call-a")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    at.multiselect(key="tags-pick-call-a").set_value(["пример"])
    at.button(key="FormSubmitter:tags-call-a-Сохранить").click().run()
    assert not at.exception and any("Теги сохранены" in s.value for s in at.success)
    assert app_db.calls.get("call-a")["tags"] == ["пример"]
    assert [e["action"] for e in app_db.audit.for_call("call-a")] == ["tag_added"]

    tags.set_tags(app_db, TRAINER, "chat-b", ["пример", "жалоба"])
    at = run_app()
    at.multiselect(key="calls_tags").set_value(["пример", "жалоба"]).run()
    assert list(at.dataframe[0].value["ID"]) == ["chat-b"]


def test_an_operator_is_not_offered_to_tag(app_db):
    at = run_app(user=ANNA, call_id="chat-b")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    assert not [m for m in at.multiselect if m.key == "tags-pick-chat-b"]


def test_the_lost_calls_page_lists_those_not_returned(app_db, settings):
    from datetime import datetime, timedelta

    from qa_review.services import call_log

    when = (datetime.now(settings.tz) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
    log = "call_id,started_at,direction,phone,queue,operator,status,wait_s,talk_s,hold_s\n"
    log += f"lost-1,{when},inbound,+79161234567,reg,,missed,40,0,0\n"
    call_log.import_call_log(app_db, PIPELINE, log, settings)
    at = run_app(user=SUP)
    at.switch_page("screens/lost.py").run()
    assert not at.exception
    assert at.title[0].value == "Потерянные звонки без перезвона"
    table = at.dataframe[0].value
    assert list(table["Звонок"]) == ["lost-1"] and list(table["Номер"]) == ["+79161234567"]
    at = run_app(user=ANNA)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/lost.py")  # not among the operator's pages


def test_the_kpi_page_shows_the_call_log_beside_quality(final_db, settings):
    from qa_review.services import call_log

    log = "call_id,started_at,direction,phone,queue,operator,status,wait_s,talk_s,hold_s\n"
    log += "k1,2026-11-04T10:00:00,inbound,+79161234567,reg,anna,answered,10,100,20\n"
    log += "k2,2026-11-04T11:00:00,inbound,+79160000000,reg,,missed,40,0,0\n"
    call_log.import_call_log(final_db, PIPELINE, log, settings)
    at = run_app(user=SUP)
    at.switch_page("screens/kpi.py").run()
    assert not at.exception
    assert any(h.value == "Журнал звонков АТС" for h in at.subheader)
    queues = next(d.value for d in at.dataframe if "Очередь" in d.value.columns)
    assert queues["Потеряно"].iloc[0] == 1 and queues["Уровень сервиса"].iloc[0] == 0.5
    assert len(at.get("download_button")) == 3
    at.switch_page("screens/dashboards.py").run()
    assert not at.exception
    assert "Журнал звонков: потерянные, уровень сервиса, FCR" in [s.value for s in at.subheader]


def test_an_operator_assesses_their_call_then_sees_it_beside_the_final(scored_db):
    at = run_app(user=ANNA, call_id="chat-b")
    at.switch_page("screens/call.py").run()
    assert not at.exception
    radios = [r for r in at.radio if r.key.startswith("self-")]
    assert radios
    for r in radios:
        r.set_value("fail")
    [b for b in at.button if b.label == "Отправить самооценку"][0].click().run()
    assert not at.exception and any("Самооценка сохранена" in s.value for s in at.success)
    ((row, _, _),) = review.call_for(scored_db, SUP, "chat-b")["scorecards"]
    rev = review.set_verdict(scored_db, SUP, row["id"], "tone", "pass", "ok", row["revision"])
    review.finalize(scored_db, SUP, row["id"], rev)
    at = run_app(user=ANNA, call_id="chat-b")
    at.switch_page("screens/call.py").run()
    assert not [r for r in at.radio if r.key.startswith("self-")]  # final: no more self-assessment
    compare = next(d.value for d in at.dataframe if "Моя оценка" in d.value.columns)
    assert set(compare["Моя оценка"]) == {"не выполнено"} and "выполнено" in set(compare["Итог"])
    at.switch_page("screens/my_month.py").run()
    assert not at.exception
    assert "Насколько самооценка совпадает с итогом" in [s.value for s in at.subheader]

"""Every public service function checks who asks.

Each one is called by an operator on another operator's data (petr on anna's
call) and by a supervisor on another team's (sup.b on team A): it refuses, or
what it returns holds nothing of anna's. A new public function without a row
here (or a reason it needs none) fails the first test.
"""

import importlib
import inspect
import pkgutil
from datetime import date, timedelta

import pandas as pd
import pytest

import qa_review.services as services_pkg
from qa_review.core.errors import PermissionDenied
from qa_review.services import (
    accounts,
    archive,
    asr_feedback,
    audit,
    backups,
    calibration,
    call_log,
    coaching,
    doctor,
    exports,
    failures,
    ingest,
    kpis,
    library,
    retention,
    review,
    scoring,
    search,
    self_assessment,
    tags,
    transcription,
    workflow,
)
from qa_review.services.settings import Effective
from tests.conftest import FakeTranscriber
from tests.review.conftest import T0

REFUSED = "refused"
MONTH = "2026-11"


def has_anna(result) -> bool:
    """Whether anything of anna's call or of anna herself is in what came back."""
    if isinstance(result, pd.DataFrame):
        return has_anna(result.to_dict("records"))
    if isinstance(result, dict):
        return any(has_anna(k) or has_anna(v) for k, v in result.items())
    if isinstance(result, (list, tuple, set)):
        return any(has_anna(x) for x in result)
    if hasattr(result, "__dict__"):
        return has_anna(vars(result))
    return isinstance(result, str) and ("chat-anna" in result or "anna.smirnova" in result)


CALL_LOG = (
    "call_id,started_at,direction,phone,queue,operator,status,wait_s,talk_s,hold_s\n"
    "chat-anna,2026-11-04T19:00:00+03:00,inbound,+79161112233,reg,anna.smirnova,answered,5,200,20\n"
)

# name -> (call as user u in scene s, REFUSED or "no leak")
ROWS = {
    "accounts.add_user": (lambda s, u: accounts.add_user(s.db, u, "x.y", "password-xyz", "operator"), REFUSED),
    "accounts.list_users": (lambda s, u: accounts.list_users(s.db, u), REFUSED),
    "accounts.disabled_users": (lambda s, u: accounts.disabled_users(s.db, u), REFUSED),
    "accounts.set_active": (lambda s, u: accounts.set_active(s.db, u, "anna", False), REFUSED),
    "accounts.change_role": (
        lambda s, u: accounts.change_role(s.db, u, "anna", role="supervisor", team="B", operator_id=None),
        REFUSED,
    ),
    "accounts.set_password": (lambda s, u: accounts.set_password(s.db, u, "anna", "new-password-1"), REFUSED),
    "accounts.set_spoken_name": (lambda s, u: accounts.set_spoken_name(s.db, u, "anna", "Аня"), REFUSED),
    "accounts.link_sso": (lambda s, u: accounts.link_sso(s.db, u, "anna", "someone@clinic.ru"), REFUSED),
    "asr_feedback.asr_evaluate": (lambda s, u: asr_feedback.asr_evaluate(s.db, u), REFUSED),
    "asr_feedback.asr_tune": (lambda s, u: asr_feedback.asr_tune(s.db, u, s.settings, None), REFUSED),
    "audit.verify": (lambda s, u: audit.verify(s.db, u), REFUSED),
    "backups.backup": (lambda s, u: backups.backup(s.db, u, s.tmp / "b.db"), REFUSED),
    "backups.inspect": (lambda s, u: backups.inspect(u, s.settings.db_path), REFUSED),
    "backups.restore": (lambda s, u: backups.restore(s.db, u, s.tmp / "b.db", s.settings.db_path), REFUSED),
    "backups.migrate": (lambda s, u: backups.migrate(u, s.settings.db_path), REFUSED),
    "doctor.check": (lambda s, u: doctor.check(u, Effective(s.settings, {}, None), load_model=False), REFUSED),
    "calibration.agree": (lambda s, u: calibration.agree(s.db, u, s.session, {}), REFUSED),
    "calibration.automatic_vs_agreed": (lambda s, u: calibration.automatic_vs_agreed(s.db, u, s.session), REFUSED),
    "calibration.create": (
        lambda s, u: calibration.create(s.db, u, "x", "written-chat", ["chat-anna"], ["sup.a", "sup.b"]),
        REFUSED,
    ),
    "calibration.my_verdicts": (lambda s, u: calibration.my_verdicts(s.db, u, s.session), "no leak"),
    "calibration.rate": (lambda s, u: calibration.rate(s.db, u, s.session, "chat-anna", "greet", "fail"), REFUSED),
    "calibration.ratings": (lambda s, u: calibration.ratings(s.db, u, s.session), REFUSED),
    "calibration.sessions_for": (lambda s, u: calibration.sessions_for(s.db, u), "no leak"),
    "coaching.goals": (lambda s, u: coaching.goals(s.db, u), "no leak"),
    "coaching.set_goal": (
        lambda s, u: coaching.set_goal(s.db, u, "anna.smirnova", ["greet"], 0.9, date.today() + timedelta(days=9)),
        REFUSED,
    ),
    "exports.export_audit": (lambda s, u: exports.export_audit(s.db, u, "json"), "no leak"),
    "exports.export_scores": (lambda s, u: exports.export_scores(s.db, u, "json"), "no leak"),
    "exports.export_transcripts": (lambda s, u: exports.export_transcripts(s.db, u), "no leak"),
    "failures.dismiss": (lambda s, u: failures.dismiss(s.db, u, [1]), REFUSED),
    "failures.failures": (lambda s, u: failures.failures(s.db, u), REFUSED),
    "failures.retry_ingests": (lambda s, u: failures.retry_ingests(s.db, u, s.settings), REFUSED),
    "call_log.import_call_log": (
        lambda s, u: call_log.import_call_log(s.db, u, CALL_LOG.replace("anna.smirnova", "petr.volkov"), s.settings),
        REFUSED,  # the log is every team's: a team's supervisor would rewrite anna's rows
    ),
    "call_log.report": (lambda s, u: call_log.report(s.db, u, MONTH, s.settings), "no leak"),
    "call_log.lost_calls": (lambda s, u: call_log.lost_calls(s.db, u, s.settings).calls, "no leak"),
    "call_log.trend": (lambda s, u: call_log.trend(s.db, u, s.settings, [MONTH]), "no leak"),
    "call_log.kpi_inputs": (lambda s, u: call_log.kpi_inputs(s.db, u, MONTH, s.settings), "no leak"),
    "tags.set_tags": (lambda s, u: tags.set_tags(s.db, u, "chat-anna", ["x"]), REFUSED),
    "tags.known_tags": (lambda s, u: tags.known_tags(s.db, u), "no leak"),
    "self_assessment.forms": (lambda s, u: self_assessment.forms(s.db, u, "chat-anna"), REFUSED),
    "self_assessment.submit": (lambda s, u: self_assessment.submit(s.db, u, s.card, {}), REFUSED),
    "self_assessment.side_by_side": (lambda s, u: self_assessment.side_by_side(s.db, u, s.card), REFUSED),
    "self_assessment.closeness": (lambda s, u: self_assessment.closeness(s.db, u, s.settings), "no leak"),
    "kpis.coverage": (lambda s, u: kpis.coverage(s.db, u, MONTH, s.settings), "no leak"),
    "kpis.dashboard": (lambda s, u: kpis.dashboard(s.db, u, s.settings), "no leak"),
    "kpis.import_inputs": (
        lambda s, u: kpis.import_inputs(s.db, u, "operator,period,aht_s\nanna.smirnova,2026-11,200\n").rows,
        "no leak",  # 0 rows written for another team's operator
    ),
    "kpis.load_frames": (lambda s, u: kpis.load_frames(s.db, u, MONTH), REFUSED),
    "kpis.operator_month": (lambda s, u: kpis.operator_month(s.db, u, s.settings), "no leak"),
    "kpis.rebuild_rollups": (lambda s, u: kpis.rebuild_rollups(s.db, u), REFUSED),
    "kpis.report": (lambda s, u: kpis.report(s.db, u, MONTH, s.settings), "no leak"),
    "kpis.sample": (lambda s, u: kpis.sample(s.db, u, MONTH, s.settings), "no leak"),
    "kpis.top_up": (lambda s, u: kpis.top_up(s.db, u, MONTH, s.settings), "no leak"),
    "library.add_clip": (
        lambda s, u: library.add_clip(s.db, u, s.collection, "chat-anna", 0, 30, ["greet"], "bad"),
        REFUSED,
    ),
    "library.clip_audio": (lambda s, u: library.clip_audio(s.db, u, s.clip), REFUSED),
    "library.clips": (lambda s, u: library.clips(s.db, u, s.collection), REFUSED),
    "library.collections": (lambda s, u: library.collections(s.db, u), "no leak"),
    "library.create_collection": (lambda s, u: library.create_collection(s.db, u, f"мои-{u.username}"), "no leak"),
    "library.export_collection": (
        lambda s, u: library.export_collection(s.db, u, s.collection, s.tmp / "out"),
        REFUSED,
    ),
    "library.export_zip": (lambda s, u: library.export_zip(s.db, u, s.collection), REFUSED),
    "library.share": (lambda s, u: library.share(s.db, u, s.collection, "all"), REFUSED),
    "library.shared_call_spans": (lambda s, u: library.shared_call_spans(s.db, u), "no leak"),
    "review.add_line": (lambda s, u: review.add_line(s.db, u, "chat-anna", "client", 1.0, 2.0, "да"), REFUSED),
    "review.audit_for_call": (lambda s, u: review.audit_for_call(s.db, u, "chat-anna"), REFUSED),
    "review.call_for": (lambda s, u: review.call_for(s.db, u, "chat-anna"), REFUSED),
    "review.call_meta": (lambda s, u: review.call_meta(s.db, u, "chat-anna"), REFUSED),
    "review.correct_segment": (lambda s, u: review.correct_segment(s.db, u, "chat-anna", 0, "текст"), REFUSED),
    "review.move_line": (
        lambda s, u: review.move_line(s.db, u, "chat-anna", 0, "client", settings=s.settings),
        REFUSED,
    ),
    "review.swap_roles": (lambda s, u: review.swap_roles(s.db, u, "chat-anna", settings=s.settings), REFUSED),
    "review.disputes_of": (lambda s, u: review.disputes_of(s.db, u, s.card), REFUSED),
    "review.export_audit": (lambda s, u: review.export_audit(s.db, u), "no leak"),
    "review.finalize": (lambda s, u: review.finalize(s.db, u, s.card, None), REFUSED),
    "review.mark_read": (  # anna's notifications must stay unread when someone else marks theirs
        lambda s, u: (review.mark_read(s.db, u), None if review.notifications(s.db, s.anna) else "chat-anna")[1],
        "no leak",
    ),
    "review.notifications": (lambda s, u: review.notifications(s.db, u), "no leak"),
    "review.open_dispute_list": (lambda s, u: review.open_dispute_list(s.db, u), "no leak"),
    "review.open_disputes": (
        lambda s, u: review.open_disputes(s.db, u, s.card, {"farewell": "несогласна"}, now=T0),
        REFUSED,
    ),
    "review.resolve_dispute": (lambda s, u: review.resolve_dispute(s.db, u, s.dispute, True, "ок"), REFUSED),
    "review.review_queue": (lambda s, u: review.review_queue(s.db, u), "no leak"),
    "review.scores_for": (lambda s, u: review.scores_for(s.db, u, MONTH), "no leak"),
    "review.set_feedback": (lambda s, u: review.set_feedback(s.db, u, s.card, "ок", None), REFUSED),
    "review.set_verdict": (lambda s, u: review.set_verdict(s.db, u, s.card, "greet", "fail", "x", None), REFUSED),
    "review.visible_calls": (lambda s, u: review.visible_calls(s.db, u), "no leak"),
    "scoring.score_again": (
        lambda s, u: scoring.score_again(
            s.db,
            u,
            s.db.scorecards.get(s.card),
            s.db.calls.get("chat-anna"),
            s.db.transcripts.get("chat-anna"),
            s.settings,
        ),
        REFUSED,
    ),
    "scoring.scorecards": (lambda s, u: scoring.scorecards(s.db, u, "chat-anna"), REFUSED),
    # the pipeline's batch steps reach every team's calls: admins and the command line only
    "ingest.ingest": (lambda s, u: ingest.ingest(s.db, u, s.tmp, s.settings), REFUSED),
    "archive.archive_existing": (lambda s, u: archive.archive_existing(s.db, u, s.settings), REFUSED),
    "retention.retention": (lambda s, u: retention.retention(s.db, u, s.settings, months=1), REFUSED),
    "scoring.score_calls": (lambda s, u: scoring.score_calls(s.db, u, s.settings, rescore=True), REFUSED),
    "scoring.scorer": (lambda s, u: scoring.scorer(s.db, u, s.settings), REFUSED),
    "transcription.save_transcript": (
        lambda s, u: transcription.save_transcript(
            s.db, u, s.db.transcripts.get("chat-anna"), model="", settings={}, processing_s=0
        ),
        REFUSED,
    ),
    "transcription.transcribe_pending": (
        lambda s, u: transcription.transcribe_pending(s.db, u, s.settings, FakeTranscriber),
        REFUSED,
    ),
    "workflow.ingest_then_score": (lambda s, u: workflow.ingest_then_score(s.db, u, s.tmp, s.settings), REFUSED),
    "workflow.transcribe_then_score": (
        lambda s, u: workflow.transcribe_then_score(s.db, u, s.settings, FakeTranscriber),
        REFUSED,
    ),
    "search.search": (lambda s, u: search.search(s.db, u, "окулисту"), "no leak"),
    "transcription.call_detail": (lambda s, u: transcription.call_detail(s.db, u, "chat-anna"), REFUSED),
    "transcription.list_calls": (lambda s, u: transcription.list_calls(s.db, u), "no leak"),
    "transcription.transcript_info": (lambda s, u: transcription.transcript_info(s.db, u, "chat-anna"), REFUSED),
}

# Public functions that hold no one's call data, each with why it needs no acting user.
NO_USER_DATA = {
    "ingest.named_files": "path arithmetic over a manifest's rows",
    "logs.configure": "where the log goes: the entry point's own settings",
    "logs.configure_from": "where the log goes: the entry point's own settings",
    "logs.event": "writes a line; reads nothing of any user's",
    "logs.step": "times a step the caller was allowed to run",
    "logs.crash": "writes the exception being handled",
    "archive.folder": "a folder name from the settings",
    "retention.months_before": "date arithmetic",
    "archive.keep": "called by ingest after its permission check",
    "archive.drop_unused": "called by ingest after its permission check",
    "accounts.authenticate": "logging in: the password is the check",
    "accounts.login": "logging in: the password is the check (and the throttle)",
    "accounts.resume": "the session token is the check",
    "accounts.login_sso": "logging in: the identity provider's fresh sign-in is the check",
    "sso.check_config": "configuration",
    "accounts.logout": "ends the session its token names",
    "accounts.count": "how many accounts exist (first-run set-up)",
    "accounts.exists": "whether a user name is taken (CLI --exist-ok)",
    "accounts.get": "the logged-in user's own account, for the session",
    "accounts.spoken_names": "operators' names on the phone, for ASR hotwords and checklist phrases",
    "asr_feedback.tune_grid": "pure: the candidate ASR settings",
    "catalog.find_checklist": "checklist files",
    "catalog.load_checklist": "checklist files",
    "catalog.load_checklists": "checklist files",
    "catalog.load_rules": "bonus rule files",
    "catalog.load_call_log_rules": "the call log rules file",
    "catalog.load_any_rules": "a rules file, of either kind",
    "catalog.read": "reading a configuration file",
    "database.open_database": "opening the database",
    "kpis.choose": "pure: choosing among rows it is given",
    "kpis.export": "pure: formatting a report already checked",
    "tags.clean": "a tag's text",
    "call_log.export": "pure: formatting a report already checked",
    "review.call_months": "month names with any call, for the filters",
    "review.dispute_deadline": "pure: a date from a row already read",
    "scoring.checklists": "checklist files",
    "cluster.connect": "a Dask client; the tasks it runs come from transcribe_pending, which checks",
    "cluster.task_slots": "a count of worker threads",
    "cluster.first_done": "waits on futures the caller holds",
    "cluster.failure_reason": "words an error",
    "cluster.security": "TLS settings",
    "scoring.record_checklist": "a checklist's text, kept with the scorecards it made",
    "settings.from_env": "configuration",
    "settings.parse_option": "configuration",
    "settings.load": "configuration",
    "settings.config_path": "configuration",
    "settings.shipped": "configuration",
    "transcription.asr_setup": "configuration",
}


def public_service_functions() -> set[str]:
    names = set()
    for m in pkgutil.iter_modules(services_pkg.__path__):
        mod = importlib.import_module(f"qa_review.services.{m.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == mod.__name__ and not name.startswith("_"):
                names.add(f"{m.name}.{name}")
    return names


def test_every_public_service_function_has_a_row():
    listed = set(ROWS) | set(NO_USER_DATA)
    found = public_service_functions()
    assert found - listed == set(), "add a row to ROWS (or a reason to NO_USER_DATA) for these"
    assert listed - found == set(), "rows for functions that are gone"


class Scene:
    """The world, with something of anna's everywhere: a final scorecard, an open dispute,
    a calibration, a library collection shared with team A, a coaching goal, a notification."""

    def __init__(self, w, tmp):
        self.__dict__.update(w.__dict__)
        self.tmp = tmp
        accounts.add_user(w.db, w.admin, "sup.a2", "password-a2", "supervisor", team="A")
        rev = review.set_verdict(w.db, w.sup_a, w.card, "tone", "pass", "ok", None, now=T0)
        review.finalize(w.db, w.sup_a, w.card, rev, now=T0)
        self.dispute = review.open_disputes(w.db, w.anna, w.card, {"greet": "я поздоровалась"}, now=T0)[0]
        self.session = calibration.create(w.db, w.sup_a, "A", "written-chat", ["chat-anna"], ["sup.a", "sup.a2"])
        calibration.rate(w.db, w.sup_a, self.session, "chat-anna", "greet", "pass")
        self.collection = library.create_collection(w.db, w.sup_a, "Команда A")
        library.add_clip(w.db, w.sup_a, self.collection, "chat-anna", 0, 60, ["greet"], "good")
        library.share(w.db, w.sup_a, self.collection, "team:A")
        (self.clip,) = library.clips(w.db, w.sup_a, self.collection)
        coaching.set_goal(w.db, w.sup_a, "anna.smirnova", ["greet"], 0.9, date.today() + timedelta(days=30))
        call_log.import_call_log(w.db, w.admin, CALL_LOG, w.settings)
        tags.set_tags(w.db, w.sup_a, "chat-anna", ["anna.smirnova-followup"])
        self.card = w.card


@pytest.fixture
def scene(world, tmp_path):
    return Scene(world, tmp_path)


@pytest.mark.parametrize("intruder", ["petr", "sup_b"])
@pytest.mark.parametrize("name", sorted(ROWS))
def test_nobody_reaches_what_is_not_theirs(scene, name, intruder):
    call, expect = ROWS[name]
    user = getattr(scene, intruder)
    if expect == REFUSED:
        with pytest.raises(PermissionDenied):
            call(scene, user)
        return
    try:
        result = call(scene, user)
    except PermissionDenied:
        return
    assert not has_anna(result), f"{name} gave {user.username} something of anna's: {result!r}"[:400]
    if name == "kpis.import_inputs":
        assert result == 0


def test_the_rows_can_fail(scene):
    """The owner and their supervisor do get anna's data through the same rows: the checks are not vacuous."""
    assert has_anna(ROWS["review.visible_calls"][0](scene, scene.sup_a))
    assert has_anna(ROWS["exports.export_transcripts"][0](scene, scene.sup_a))
    assert has_anna(ROWS["search.search"][0](scene, scene.anna))
    assert has_anna(ROWS["review.open_dispute_list"][0](scene, scene.sup_a))
    assert has_anna(ROWS["coaching.goals"][0](scene, scene.anna))
    assert has_anna(ROWS["library.shared_call_spans"][0](scene, scene.anna))
    assert has_anna(ROWS["call_log.report"][0](scene, scene.sup_a))
    assert has_anna(ROWS["call_log.kpi_inputs"][0](scene, scene.sup_a))
    assert has_anna(ROWS["tags.known_tags"][0](scene, scene.sup_a))


def test_an_operator_reads_the_history_of_their_published_scorecard_without_reviewers_comments(scene):
    entries = review.audit_for_call(scene.db, scene.anna, "chat-anna")
    assert entries and all(e["scorecard_id"] == scene.card for e in entries)
    verdicts = [e for e in entries if e["action"] == "verdict"]
    assert verdicts and all(e["reason"] is None for e in verdicts)  # the supervisor's "ok" stays private
    (dispute,) = [e for e in entries if e["action"] == "dispute"]
    assert dispute["reason"] == "я поздоровалась"  # her own words she sees

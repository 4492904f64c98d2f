"""Opening the database and keeping its schema current.

The schema is created and upgraded by numbered migrations; an old database is
upgraded in place, never dropped. Each migration runs in its own transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database, Migrations

from qa_review.core.errors import DatabaseError, MigrationError

migrations = Migrations("qa_review")

# Work a migration leaves for the storage layer (which may use the domain's code).
REINDEX_SEARCH = "reindex_search"


@migrations()
def m001_calls_and_transcripts(db: Database) -> None:
    db["calls"].create(
        {
            "call_id": str,
            "kind": str,  # audio | written
            "channel": str,  # phone | chat | messenger | email
            "operator": str,
            "started_at": str,  # ISO 8601 with offset
            "direction": str,
            "phone": str,
            "queue": str,
            "tags": str,  # JSON list
            "source_path": str,
            "content_sha256": str,
            "audio_channels": int,
            "sample_rate": int,
            "duration_s": float,
            "status": str,  # ingested | transcribed | failed
            "error": str,
            "ingested_at": str,
        },
        pk="call_id",
        not_null={"kind", "channel", "operator", "started_at", "status"},
    )
    db["calls"].create_index(["content_sha256"], unique=True)
    db["calls"].create_index(["status"])
    db["calls"].create_index(["operator", "started_at"])

    db["ingest_errors"].create(
        {
            "id": int,
            "batch": str,
            "path": str,
            "row": int,
            "reason": str,
            "at": str,
        },
        pk="id",
    )

    db["transcripts"].create(
        {
            "call_id": str,
            "source": str,  # asr | written
            "model": str,
            "language": str,
            "settings": str,  # JSON: the ASR options used
            "duration_s": float,
            "processing_s": float,
            "created_at": str,
        },
        pk="call_id",
        foreign_keys=[("call_id", "calls", "call_id")],
    )
    db["segments"].create(
        {
            "id": int,
            "call_id": str,
            "idx": int,
            "speaker": str,
            "start": float,
            "end": float,
            "text": str,
            "words": str,  # JSON list of {start, end, text, probability}
        },
        pk="id",
        foreign_keys=[("call_id", "calls", "call_id")],
    )
    db["segments"].create_index(["call_id", "idx"], unique=True)
    db["activity"].create(
        {"id": int, "call_id": str, "speaker": str, "start": float, "end": float},
        pk="id",
        foreign_keys=[("call_id", "calls", "call_id")],
    )
    db["activity"].create_index(["call_id"])


@migrations()
def m002_checklists_and_scorecards(db: Database) -> None:
    db["checklist_versions"].create(
        {
            "id": int,
            "checklist_id": str,
            "version": int,
            "title": str,
            "sha256": str,  # of the YAML text: the same version must not change
            "yaml": str,
            "first_used_at": str,
        },
        pk="id",
    )
    db["checklist_versions"].create_index(["checklist_id", "version"], unique=True)
    db["scorecards"].create(
        {
            "id": int,
            "call_id": str,
            "checklist_id": str,
            "checklist_version": int,
            "score": float,  # null: nothing decided yet
            "provisional": int,
            "critical_failed": int,
            "passed": int,  # null without a pass mark or score
            "pass_mark": float,
            "status": str,  # auto; later: in_review, final, disputed, resolved
            "revision": int,  # bumped on every save: optimistic locking
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("call_id", "calls", "call_id")],
    )
    db["scorecards"].create_index(["call_id", "checklist_id", "checklist_version"], unique=True)
    db["scorecard_items"].create(
        {
            "id": int,
            "scorecard_id": int,
            "position": int,
            "section_id": str,
            "item_id": str,
            "title": str,
            "kind": str,
            "weight": float,
            "critical": int,
            "verdict": str,
            "auto_verdict": str,  # what the machine said, kept when a human changes it
            "evidence": str,  # JSON list
            "comment": str,
        },
        pk="id",
        foreign_keys=[("scorecard_id", "scorecards", "id")],
    )
    db["scorecard_items"].create_index(["scorecard_id", "item_id"], unique=True)


@migrations()
def m003_users_review_disputes(db: Database) -> None:
    db["users"].create(
        {
            "username": str,
            "display_name": str,
            "role": str,  # admin | supervisor | trainer | operator
            "team": str,
            "operator_id": str,  # an operator's id in call metadata
            "password_hash": str,  # argon2id
            "active": int,
            "created_at": str,
        },
        pk="username",
        not_null={"role", "password_hash"},
    )
    db["users"].create_index(["operator_id"])
    db["scorecards"].add_column("feedback", str)
    db["scorecards"].add_column("assignee", str)
    db["scorecards"].add_column("finalized_at", str)
    db["scorecards"].add_column("finalized_by", str)
    db["scorecard_items"].add_column("changed_by", str)
    db["segments"].add_column("original_text", str)  # the ASR text, kept when corrected
    db["disputes"].create(
        {
            "id": int,
            "scorecard_id": int,
            "item_id": str,
            "opened_by": str,
            "reason": str,
            "opened_at": str,
            "status": str,  # open | upheld | rejected
            "verdict_before": str,
            "verdict_after": str,
            "resolved_by": str,
            "resolved_at": str,
            "reply": str,
        },
        pk="id",
        foreign_keys=[("scorecard_id", "scorecards", "id")],
    )
    db["disputes"].create_index(["scorecard_id", "item_id"], unique=True)
    db["disputes"].create_index(["status"])
    db["audit_log"].create(
        {
            "id": int,
            "at": str,
            "username": str,
            "action": str,
            "call_id": str,
            "scorecard_id": int,
            "target": str,  # item id, segment index, ...
            "old": str,
            "new": str,
            "reason": str,
        },
        pk="id",
    )
    db["audit_log"].create_index(["call_id"])
    db["notifications"].create(
        {
            "id": int,
            "username": str,
            "kind": str,
            "call_id": str,
            "scorecard_id": int,
            "text": str,
            "created_at": str,
            "read_at": str,
        },
        pk="id",
    )
    db["notifications"].create_index(["username", "read_at"])


@migrations()
def m004_kpi_and_sampling(db: Database) -> None:
    db["samples"].create(
        {"id": int, "month": str, "call_id": str, "reason": str, "seed": int, "assignee": str, "created_at": str},
        pk="id",
    )
    db["samples"].create_index(["month", "call_id"], unique=True)
    db["kpi_inputs"].create(
        {"operator": str, "period": str, "metric": str, "value": float, "imported_at": str},
        pk=("operator", "period", "metric"),
    )
    db["kpi_reports"].create(
        {
            "id": int,
            "month": str,
            "rules_id": str,
            "rules_version": int,
            "rules_sha256": str,
            "created_by": str,
            "created_at": str,
            "report": str,
        },
        pk="id",
    )
    db["calls"].create_index(["started_at"])


@migrations()
def m005_covering_indexes(db: Database) -> None:
    # Month reports and dashboards read verdicts of hundreds of thousands of
    # items; with them in the index, SQLite never visits the table rows.
    db["scorecard_items"].create_index(["scorecard_id", "verdict", "auto_verdict", "item_id", "title"])
    db["scorecards"].create_index(["call_id", "status", "score", "critical_failed"])


@migrations()
def m006_transcript_search(db: Database) -> None:
    # A migration never runs application code: the index is filled by the
    # storage layer on the next open (see ``pending_tasks``).
    db.execute("create virtual table segments_fts using fts5(stems, call_id unindexed, idx unindexed)")
    db["storage_tasks"].create({"task": str, "created_at": str}, pk="task", if_not_exists=True)
    if db.execute("select 1 from segments limit 1").fetchone():
        db["storage_tasks"].insert({"task": REINDEX_SEARCH, "created_at": ""}, replace=True)


@migrations()
def m007_coaching_and_calibration(db: Database) -> None:
    db["goals"].create(
        {
            "id": int,
            "operator_id": str,
            "items": str,
            "target": float,
            "due": str,
            "note": str,
            "set_by": str,
            "created_at": str,
        },
        pk="id",
    )
    db["goals"].create_index(["operator_id"])
    db["calibrations"].create(
        {"id": int, "title": str, "checklist_id": str, "lead": str, "created_at": str, "closed_at": str},
        pk="id",
    )
    db["calibration_calls"].create({"calibration_id": int, "call_id": str}, pk=("calibration_id", "call_id"))
    db["calibration_reviewers"].create({"calibration_id": int, "username": str}, pk=("calibration_id", "username"))
    db["calibration_verdicts"].create(
        {"calibration_id": int, "call_id": str, "item_id": str, "reviewer": str, "verdict": str, "at": str},
        pk=("calibration_id", "call_id", "item_id", "reviewer"),
    )
    db["calibration_agreed"].create(
        {"calibration_id": int, "call_id": str, "item_id": str, "verdict": str, "at": str},
        pk=("calibration_id", "call_id", "item_id"),
    )


@migrations()
def m008_training_library(db: Database) -> None:
    db["collections"].create(
        {"id": int, "name": str, "description": str, "created_by": str, "created_at": str}, pk="id"
    )
    db["collections"].create_index(["name"], unique=True)
    db["clips"].create(
        {
            "id": int,
            "collection_id": int,
            "call_id": str,
            "start": float,
            "end": float,
            "items": str,
            "example": str,
            "note": str,
            "created_by": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("collection_id", "collections", "id"), ("call_id", "calls", "call_id")],
    )
    db["clips"].create_index(["collection_id"])
    db["collection_shares"].create(
        {"collection_id": int, "audience": str},  # all | team:NAME | user:NAME
        pk=("collection_id", "audience"),
    )


@migrations()
def m009_asr_coverage_and_vocabulary(db: Database) -> None:
    # How much of each speaker's speech was recognized, and where it was not.
    db["transcripts"].add_column("coverage", str)  # JSON {speaker: {speech_s, covered_s, restored_s}}
    db["transcripts"].add_column("unheard", str)  # JSON [[speaker, start, end], ...]
    # A line a reviewer added where the recognizer heard nothing.
    db["segments"].add_column("added_by", str)
    # The name an operator gives on the phone ("Анна"), for greeting checks
    # and the recognizer's vocabulary.
    db["users"].add_column("spoken_name", str)
    # One flag mechanism for calls a person should look at (low ASR
    # coverage now; recording faults later).
    db["call_flags"].create(
        {"call_id": str, "code": str, "detail": str, "created_at": str},
        pk=("call_id", "code"),
    )


# What changes a (month, operator) rollup: the statements the triggers below
# watch. Each trigger only marks the key stale; ``storage.kpis`` recomputes
# stale keys from the rows on the next read, so a rollup is always the same
# aggregate as the rows and no trigger needs to know what "published" means.
_ROLLUP_KEY_OF_CALL = "select substr(started_at, 1, 7), operator from calls where call_id = {ref}.call_id"
_ROLLUP_KEY_OF_CARD = (
    "select substr(c.started_at, 1, 7), c.operator from scorecards s join calls c on c.call_id = s.call_id "
    "where s.id = {ref}.scorecard_id"
)
_ROLLUP_TRIGGERS = {
    # name: (event, table, [key queries with {ref} = NEW / OLD])
    "calls_ins": ("insert", "calls", ["values (substr(NEW.started_at, 1, 7), NEW.operator)"]),
    "calls_del": ("delete", "calls", ["values (substr(OLD.started_at, 1, 7), OLD.operator)"]),
    "calls_upd": (
        "update of operator, started_at",
        "calls",
        ["values (substr(OLD.started_at, 1, 7), OLD.operator)", "values (substr(NEW.started_at, 1, 7), NEW.operator)"],
    ),
    "cards_ins": ("insert", "scorecards", [_ROLLUP_KEY_OF_CALL.format(ref="NEW")]),
    "cards_del": ("delete", "scorecards", [_ROLLUP_KEY_OF_CALL.format(ref="OLD")]),
    "cards_upd": (
        "update of call_id, status, score, critical_failed",
        "scorecards",
        [_ROLLUP_KEY_OF_CALL.format(ref="OLD"), _ROLLUP_KEY_OF_CALL.format(ref="NEW")],
    ),
    "items_ins": ("insert", "scorecard_items", [_ROLLUP_KEY_OF_CARD.format(ref="NEW")]),
    "items_del": ("delete", "scorecard_items", [_ROLLUP_KEY_OF_CARD.format(ref="OLD")]),
    "items_upd": (
        "update of scorecard_id, item_id, title, verdict, auto_verdict",
        "scorecard_items",
        [_ROLLUP_KEY_OF_CARD.format(ref="OLD"), _ROLLUP_KEY_OF_CARD.format(ref="NEW")],
    ),
    "disputes_ins": ("insert", "disputes", [_ROLLUP_KEY_OF_CARD.format(ref="NEW")]),
    "disputes_del": ("delete", "disputes", [_ROLLUP_KEY_OF_CARD.format(ref="OLD")]),
    "disputes_upd": (
        "update of scorecard_id, status",
        "disputes",
        [_ROLLUP_KEY_OF_CARD.format(ref="OLD"), _ROLLUP_KEY_OF_CARD.format(ref="NEW")],
    ),
}


@migrations()
def m010_kpi_rollups(db: Database) -> None:
    # Per-operator monthly sums, so a month's report and the dashboards read
    # thousands of rollup rows instead of a million scorecards.
    db["kpi_stale"].create({"month": str, "operator": str}, pk=("month", "operator"))
    db["kpi_month_operator"].create(
        {
            "month": str,
            "operator": str,
            "calls": int,
            "scored_calls": int,  # calls with any scorecard
            "reviewed_calls": int,  # calls with a published scorecard
            "cards": int,  # published scorecards
            "scored": int,  # published scorecards with a score
            # Scores have one decimal: kept in tenths, the sums are exact
            # integers, so the mean rounds the same whatever the summing order.
            "score_tenths": int,
            "score_tenths_sq": int,  # sum of squares: the confidence interval
            "critical_fails": int,
            "disputes_raised": int,
            "disputes_upheld": int,
            "disputes_open": int,
        },
        pk=("month", "operator"),
    )
    db["kpi_month_bins"].create(
        {"month": str, "operator": str, "bin": int, "n": int, "score_sum": float},
        pk=("month", "operator", "bin"),
    )
    db["kpi_month_items"].create(
        {
            "month": str,
            "operator": str,
            "item_id": str,
            "title": str,
            "failed": int,
            "decided": int,  # pass or fail, as it stands
            "auto_decided": int,  # the machine said pass, fail or n/a
            "same": int,  # ... and people left it so
        },
        pk=("month", "operator", "item_id", "title"),
    )
    for name, (event, table, keys) in _ROLLUP_TRIGGERS.items():
        body = " ".join(f"insert or ignore into kpi_stale (month, operator) {k};" for k in keys)
        db.execute(f"create trigger kpi_stale_{name} after {event} on {table} begin {body} end")
    # Everything is stale at first: the first read fills the rollups.
    db.execute("insert or ignore into kpi_stale select distinct substr(started_at, 1, 7), operator from calls")


@migrations()
def m011_transcription_leases(db: Database) -> None:
    # A transcription run leases the calls it works on, so a second run takes
    # other calls and a killed run's calls are taken again once it stops renewing.
    db["calls"].add_column("lease_owner", str)
    db["calls"].add_column("lease_until", float)  # seconds since the epoch
    # The waiting recordings in the order runs take them: taking the next one
    # stays a few index steps however long the backlog.
    db.execute(
        "create index calls_waiting on calls (started_at, call_id) "
        "where kind = 'audio' and status in ('ingested', 'failed')"
    )


@migrations()
def m012_ingest_error_sources(db: Database) -> None:
    # What a retry ingests again (the file, or the manifest into its folder),
    # and when a later run settled the error.
    db["ingest_errors"].add_column("source", str)
    db["ingest_errors"].add_column("root", str)
    db["ingest_errors"].add_column("resolved_at", str)
    db["ingest_errors"].create_index(["source", "row"])


AUDIT_FIELDS = ("at", "username", "action", "call_id", "scorecard_id", "target", "old", "new", "reason")


def audit_hash_v1(prev: str, entry: dict) -> str:
    """The chain link of an audit entry: sha256 over the previous link and the entry's fields.

    Frozen: m013 back-filled the chain with it, so changing it would break
    every chain written so far (a new rule gets a new name and a migration).
    """
    body = json.dumps([prev, *(entry.get(k) for k in AUDIT_FIELDS)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


AUDIT_GENESIS = "0" * 64


@migrations()
def m013_audit_chain(db: Database) -> None:
    # Each entry carries a hash chained to the one before, so a changed,
    # removed or reordered entry shows: `qa-review audit verify`.
    db["audit_log"].add_column("hash", str)
    prev = AUDIT_GENESIS
    rows = db.execute(f"select id, {', '.join(AUDIT_FIELDS)} from audit_log order by id").fetchall()
    for row in rows:
        prev = audit_hash_v1(prev, dict(zip(AUDIT_FIELDS, row[1:], strict=True)))
        db.execute("update audit_log set hash = ? where id = ?", [prev, row[0]])


@migrations()
def m014_sessions_and_login_failures(db: Database) -> None:
    # A browser keeps a random token; only its hash is stored, so a copy of
    # the database opens no session.
    db["sessions"].create(
        {
            "token_sha256": str,
            "username": str,
            "created_at": str,
            "last_seen": float,  # seconds since the epoch: idle sessions expire
            "revoked_at": str,
            "client": str,
        },
        pk="token_sha256",
    )
    db["sessions"].create_index(["username"])
    db["login_failures"].create({"id": int, "key": str, "at": float}, pk="id")
    db["login_failures"].create_index(["key", "at"])


@migrations()
def m015_account_kinds(db: Database) -> None:
    # Demo accounts (published passwords) and the first-run admin, told apart from real ones.
    db["users"].add_column("kind", str)


@migrations()
def m016_single_sign_on(db: Database) -> None:
    # The directory identity (e-mail, UPN...) an admin links to a user, and on
    # each session the sign-in it came from, so one sign-in opens one session.
    db["users"].add_column("sso_identity", str)
    db["users"].create_index(["sso_identity"], unique=True)
    db["sessions"].add_column("sso_signin", str)
    db["sessions"].create_index(["sso_signin"])


@migrations()
def m017_mono_roles(db: Database) -> None:
    # How a mono call's voices were told apart and given roles (JSON of
    # core.domain.Diarization), and the machine's speaker of a line a
    # reviewer moved to the other side (null while untouched).
    db["transcripts"].add_column("diarization", str)
    db["segments"].add_column("auto_speaker", str)


@migrations()
def m018_call_log(db: Database) -> None:
    # The PBX's call log: every call the telephony saw, answered or not, so a
    # call nobody answered exists for qa-review too. Times on the clinic's
    # clock, as calls.started_at; call_id is the PBX's, shared with the
    # recording when there is one (linked_call_id).
    db["call_log"].create(
        {
            "call_id": str,
            "started_at": str,
            "direction": str,  # inbound | outbound
            "phone": str,
            "queue": str,
            "operator": str,  # null: nobody answered
            "status": str,  # answered | missed | abandoned
            "wait_s": float,
            "talk_s": float,
            "hold_s": float,
            "recording": str,  # the recording's file name, as the PBX wrote it
            "linked_call_id": str,  # the ingested recording of this call
            "source": str,  # the file it was imported from
            "imported_at": str,
        },
        pk="call_id",
        not_null={"started_at", "direction", "status"},
    )
    db["call_log"].create_index(["started_at"])


@migrations()
def m019_call_log_version(db: Database) -> None:
    # Bumped by every import: what figures computed from the log were computed from.
    db["call_log_version"].create({"id": int, "n": int}, pk="id")
    db["call_log_version"].insert({"id": 1, "n": 0})


@migrations()
def m020_self_assessments(db: Database) -> None:
    # An operator's own verdicts on their call against a checklist, given
    # before its scorecard is final (blind: operators see scorecards only once
    # published). Keyed by call and checklist, not scorecard id: rescoring
    # replaces an automatic scorecard, and the operator's word stays.
    db["self_assessments"].create(
        {"call_id": str, "checklist_id": str, "operator": str, "verdicts": str, "comment": str, "submitted_at": str},
        pk=("call_id", "checklist_id"),
    )


@migrations()
def m021_recordings_archive(db: Database) -> None:
    # A recording is kept in the archive under the data folder (source_path
    # then points there); origin_path is where it was ingested from, for the
    # call log's file names and for people. NULL: not archived yet (a call
    # ingested before the archive; `qa-review archive` copies it).
    db["calls"].add_column("origin_path", str)
    db.execute("update calls set origin_path = source_path where kind != 'audio'")


@migrations()
def m022_audio_retention(db: Database) -> None:
    # When the retention policy removed a call's recording (its transcript,
    # scorecards and audit stay); NULL: the audio is kept.
    db["calls"].add_column("audio_removed_at", str)


@contextmanager
def _migration_lock(path: Path) -> Iterator[None]:
    """One process at a time sets the database up; the others wait, then find nothing to do.

    A lock file beside the database, not the database itself: closing any
    descriptor of the database file would drop SQLite's own POSIX locks.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own locking is all there is
        yield
        return
    with open(f"{path}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


CopyBefore = Callable[[Database, Path], None]  # takes a copy of an existing database before an upgrade


def connect(
    path: str | Path,
    *,
    check_same_thread: bool = True,
    copy: CopyBefore | None = None,
    upgraded: Callable[[Upgrade], None] | None = None,
) -> Database:
    """Open (creating if needed) and migrate the database at ``path``; ``upgraded`` is told what was applied.

    ``":memory:"`` gives a fresh in-memory database, for tests.
    """
    if str(path) == ":memory:":
        db = Database(memory=True)
    else:
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=check_same_thread)
        db = Database(conn)
        db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA foreign_keys = ON")
    _refuse_newer(db, path)
    if db.memory:
        migrations.apply(db)
    elif db.journal_mode != "wal" or migrations.pending(db):
        with _migration_lock(path):
            _refuse_foreign(db, path)
            # WAL lets the app read while a batch transcription writes.
            db.enable_wal()
            done = _upgrade(db, path, copy)  # what another process applied meanwhile is no longer pending
            if upgraded is not None:
                upgraded(done)
    return db


@dataclass(frozen=True)
class Upgrade:
    applied: tuple[str, ...]  # migrations applied now
    backup: Path | None  # the copy taken before them (None: nothing to upgrade, or a new database)


def _upgrade(db: Database, path: Path, copy: CopyBefore | None) -> Upgrade:
    """Apply the pending migrations; an existing database is copied beside itself first.

    An upgrade that goes wrong half-way (a full disk, a bug in a migration)
    must leave a way back that needs no one's nightly backup to have run.
    """
    pending = [m.name for m in migrations.pending(db)]
    backup = None
    if pending and migrations.applied(db) and copy is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.stem}.before-{pending[0].split('_')[0]}-{stamp}{path.suffix}")
        copy(db, backup)
    migrations.apply(db)
    return Upgrade(tuple(pending), backup)


def upgrade(path: str | Path, copy: CopyBefore) -> tuple[Upgrade, str]:
    """Upgrade the database at ``path`` now (a copy first); what was done, and the schema now."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"{path}: no such database; check --db (or database in qa-review.yaml)", code="db_missing")
    db = Database(sqlite3.connect(str(path)))
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        _refuse_newer(db, path)
        with _migration_lock(path):
            _refuse_foreign(db, path)
            db.enable_wal()
            done = _upgrade(db, path, copy)
        names = schema_version(db)
        return done, names[-1] if names else ""
    finally:
        db.close()


def _refuse_foreign(db: Database, path) -> None:
    """Never migrate another program's database into ours (a mistyped --db)."""
    tables = set(db.table_names()) - {migrations.migrations_table}
    if tables and not migrations.applied(db):
        raise DatabaseError(
            f"{path} is a SQLite database of another program (tables {', '.join(sorted(tables)[:5])}); "
            "qa-review leaves it alone: check --db (or QA_REVIEW_DB)",
            code="db_foreign",
            path=str(path),
        )


def _refuse_newer(db: Database, path) -> None:
    known = {m.name for m in migrations._migrations}
    unknown = {m.name for m in migrations.applied(db)} - known
    if unknown:
        raise MigrationError(
            f"database {path} was written by a newer qa-review (migrations "
            f"{', '.join(sorted(unknown))}); upgrade qa-review before opening it"
        )


def pending_tasks(db: Database) -> list[str]:
    if not db["storage_tasks"].exists():
        return []
    return [r["task"] for r in db["storage_tasks"].rows]


def task_done(db: Database, task: str) -> None:
    db.execute("delete from storage_tasks where task = ?", [task])


def schema_version(db: Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]

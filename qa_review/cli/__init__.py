"""The `qa-review` command: parses arguments, calls the service layer.

Library errors (QAReviewError) become click errors with the message as is;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click
from tqdm import tqdm

from qa_review.asr import models as asr_models
from qa_review.asr.engines import check_loads, make_transcriber
from qa_review.core.errors import QAReviewError
from qa_review.core.permissions import ADMIN, ROLES, User
from qa_review.services import (
    accounts,
    asr_feedback,
    database,
    exports,
    library,
    review,
    scoring,
    search,
    transcription,
    workflow,
)
from qa_review.services import kpis as kpi_service
from qa_review.services.catalog import load_checklist, load_rules
from qa_review.services.settings import from_env, parse_channel_roles, parse_language


class _Ctx:
    def __init__(self, db_path: str | None):
        self.settings = from_env()
        if db_path:
            self.settings = self.settings.with_(db_path=Path(db_path))
        self._db = None

    @property
    def db(self):
        if self._db is None:
            self._db = database.open_database(self.settings.db_path)
        return self._db


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAReviewError as e:
            raise click.ClickException(str(e)) from e


@contextmanager
def _ticker(desc: str, unit: str):
    """A progress bar on stderr (silent when not a terminal); yields its tick."""
    bar = tqdm(desc=desc, unit=unit, file=sys.stderr, disable=None)

    def tick(msg: str) -> None:
        bar.set_postfix_str(msg[-40:])
        bar.update(1)

    try:
        yield tick
    finally:
        bar.close()


def _conclude(command: str, summary: str, failures: list[tuple[str, str]]) -> None:
    """Print each failure and the summary; exit 1 if anything failed."""
    for _, reason in failures:
        click.echo(f"FAILED {reason}", err=True)
    click.echo(f"{command}: {summary}")
    if failures:
        sys.exit(1)


@click.group(cls=_Group)
@click.option(
    "--db",
    "db_path",
    envvar="QA_REVIEW_DB",
    default=None,
    help="SQLite database file (default: qa_review.db here; env QA_REVIEW_DB).",
)
@click.version_option(package_name="qa-review")
@click.pass_context
def cli(ctx, db_path):
    """Quality review of contact-center calls, run locally.

    \b
    qa-review models install base
    qa-review ingest recordings/ --manifest recordings/manifest.csv
    qa-review transcribe
    qa-review score
    qa-review serve
    """
    ctx.obj = _Ctx(db_path)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    help="CSV: file, call_id, operator, started_at [, direction, phone, queue, tags].",
)
@click.option(
    "--score/--no-score",
    "then_score",
    default=True,
    show_default=True,
    help="Score the written conversations just added (recordings are scored after transcription).",
)
@click.pass_obj
def ingest(obj: _Ctx, path: Path, manifest: Path | None, then_score: bool):
    """Add recordings and written conversations from a file or folder.

    \b
    qa-review ingest calls/ --manifest calls/manifest.csv
    qa-review ingest chats/export.json

    Audio: wav, mp3, ogg/opus, flac, m4a, stereo (operator and client on
    separate channels) or mono. Metadata from the manifest, else a sidecar
    JSON of the same name, else the file name and time. Identical content is
    ingested once; bad inputs are reported and the rest go on. Exits 1 if
    any input failed.
    """
    with _ticker("ingest", "file") as tick:
        report, scored = workflow.ingest_then_score(
            obj.db, path, obj.settings, manifest=manifest, progress=tick, score=then_score
        )
    for where, existing in report.duplicates:
        click.echo(f"skipped (already ingested as {existing}): {where}")
    score_failures = []
    if scored:
        click.echo(f"score: {scored.summary()}")
        score_failures = scored.failed
    _conclude("ingest", report.summary(), report.errors + score_failures)


@cli.command()
@click.option(
    "--model", default=None, help="Registry name (base), faster-whisper name, or model folder (env QA_REVIEW_MODEL)."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Calls transcribed at once; the CPU cores are shared between them.",
)
@click.option(
    "--language", default=None, help="Language code, or 'auto' to detect (env QA_REVIEW_LANGUAGE; default ru)."
)
@click.option(
    "--channels",
    default=None,
    help="Stereo roles, left first: 'operator,client' (default) or 'client,operator' (env QA_REVIEW_CHANNELS).",
)
@click.option("--call", "call_ids", multiple=True, help="Only this call (repeatable).")
@click.option(
    "--score/--no-score",
    "then_score",
    default=True,
    show_default=True,
    help="Score the calls just transcribed against the checklists that apply.",
)
@click.pass_obj
def transcribe(obj: _Ctx, model, workers, language, channels, call_ids, then_score):
    """Transcribe every call that has no transcript yet.

    \b
    qa-review transcribe
    qa-review transcribe --model /srv/models/whisper-small --workers 2

    Safe to interrupt: each call is saved whole, and a rerun continues with
    the calls not yet done. Failed calls are retried on the next run. The
    calls just transcribed are then scored (--no-score to skip).
    Exits 1 if any call failed.
    """
    s = obj.settings
    if language is not None:
        s = replace(s, language=parse_language(language))
    if channels:
        s = s.with_(channel_roles=parse_channel_roles(channels))
    setup = transcription.asr_setup(s, model=model)

    def make():
        click.echo(f"loading model {setup.model} ({setup.model_path})", err=True)
        return make_transcriber(setup.model_path, setup.options, workers=workers, model_name=setup.model)

    bar = None

    def progress(done: int, total: int, call_id: str, error: str | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="transcribe", unit="call", file=sys.stderr, disable=None)
        bar.set_postfix_str(call_id[-30:])
        bar.update(1)
        if error:
            tqdm.write(f"FAILED {error}", file=sys.stderr)

    report, scored = workflow.transcribe_then_score(
        obj.db,
        s,
        make,
        call_ids=list(call_ids) or None,
        progress=progress,
        workers=workers,
        profile=setup.profile,
        score=then_score,
    )
    if bar:
        bar.close()
    click.echo(f"transcribe: {report.summary()}")
    if scored:
        click.echo(f"score: {scored.summary()}")
        for _, reason in scored.failed:
            click.echo(f"FAILED {reason}", err=True)
    if report.failed or (scored and scored.failed):
        sys.exit(1)


@cli.command("calls")
@click.option("--status", type=click.Choice(["ingested", "transcribed", "failed"]))
@click.pass_obj
def calls_cmd(obj: _Ctx, status):
    """List calls with their status.

    \b
    qa-review calls --status failed
    """
    rows = transcription.list_calls(obj.db, status=status)
    for c in rows:
        dur = f"{c['duration_s']:6.1f}s" if c["duration_s"] else "      -"
        line = (
            f"{c['call_id']:<28} {c['started_at'][:16]:<16} {c['channel']:<9} {c['operator']:<16} {dur} {c['status']}"
        )
        if c["error"]:
            line += f"  ({c['error']})"
        click.echo(line)
    click.echo(f"{len(rows)} call(s)")


@cli.group()
def models():
    """List and install ASR models.

    \b
    qa-review models list
    qa-review models install base
    """


@models.command("list")
@click.pass_obj
def models_list(obj: _Ctx):
    """Registry models and whether they are installed.

    \b
    qa-review models list
    """
    for m in asr_models.list_models(obj.settings.models_dir):
        state = f"installed in {m['path']}" if m["installed"] else "not installed"
        click.echo(f"{m['name']:<8} {state} - {m['description']}")
    click.echo(
        "also accepted: faster-whisper names ("
        + ", ".join(asr_models.faster_whisper_names())
        + ") and model folder paths"
    )


@models.command("install")
@click.argument("name")
@click.option(
    "--from",
    "source",
    default=None,
    type=click.Path(path_type=Path),
    help="A model folder of your own: CTranslate2 Whisper, or ONNX (with --type).",
)
@click.option(
    "--type",
    "model_type",
    default=None,
    help="For an ONNX folder: onnx-asr's model type (gigaam-v3-ctc, t-one-ctc, nemo-conformer-ctc...).",
)
@click.option("--force", is_flag=True, help="Reinstall even if present.")
@click.pass_obj
def models_install(obj: _Ctx, name, source, model_type, force):
    """Install a registry model into models/NAME (sha256 checked), or your own folder.

    \b
    qa-review models install base
    qa-review models install large-v3-turbo --from /srv/whisper-large-v3-turbo-ct2
    qa-review models install gigaam --from /srv/gigaam-v3-onnx --type gigaam-v3-ctc

    A folder of your own is checked (complete, loads) and copied into
    models/NAME, registered in models/local.yaml (not tracked by git).
    """
    say = lambda m: click.echo(m, err=True)  # noqa: E731
    if source is None:
        asr_models.install(name, obj.settings.models_dir, force=force, say=say)
        return
    asr_models.install_from(
        name, source, obj.settings.models_dir, check=check_loads, model_type=model_type, force=force, say=say
    )


@cli.group()
def asr():
    """Measure and tune transcription on this clinic's own calls.

    \b
    qa-review asr evaluate --since 2026-11-01
    qa-review asr tune            # writes asr-profile.candidate.yaml
    qa-review asr tune --apply    # and makes it the active profile
    """


def _print_table(title: str, rows: list[dict]) -> None:
    click.echo(f"\n{title:<24} {'calls':>6} {'lines':>6} {'words':>7} {'WER':>7}")
    for r in rows:
        w = "-" if r["wer"] is None else f"{r['wer']:.3f}"
        click.echo(f"{str(r['key'])[:24]:<24} {r['calls']:>6} {r['lines']:>6} {r['words']:>7} {w:>7}")


@asr.command("evaluate")
@click.option("--since", default=None, help="Only calls from this date on (YYYY-MM-DD, the clinic's clock).")
@click.pass_obj
def asr_evaluate(obj: _Ctx, since):
    """WER of the recognizer on the calls reviewers corrected.

    \b
    qa-review asr evaluate
    qa-review asr evaluate --since 2026-11-01

    Corrected lines, untouched lines of the same calls and lines reviewers
    added (speech the recognizer missed) are the reference.
    """
    tables = asr_feedback.asr_evaluate(obj.db, since)
    if not tables["speaker"]:
        click.echo("no corrected calls yet: correct transcripts on the call page, then run this again")
        return
    for by, title in (("speaker", "speaker"), ("operator", "operator"), ("queue", "queue"), ("model", "model")):
        _print_table(title, tables[by])


@asr.command("tune")
@click.option("--since", default=None, help="Only calls from this date on (YYYY-MM-DD).")
@click.option(
    "--max-calls",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="The most recent corrected calls to try each profile on.",
)
@click.option(
    "--apply", "apply_", is_flag=True, help="Make the best profile the active one (the old one is kept as .bak)."
)
@click.pass_obj
def asr_tune(obj: _Ctx, since, max_calls, apply_):
    """Try a small grid of ASR profiles on corrected calls; keep the best.

    \b
    qa-review asr tune
    qa-review asr tune --max-calls 20 --apply

    Each profile transcribes the corrected calls' audio again and is measured
    against the reviewers' text; the best is written beside the active
    profile as *.candidate.yaml with its WER and the current one's.
    """
    setup = transcription.asr_setup(obj.settings)
    tr = make_transcriber(setup.model_path, setup.options, model_name=setup.model)
    with _ticker("asr tune", "call") as tick:
        report = asr_feedback.asr_tune(
            obj.db, obj.settings, tr, since=since, max_calls=max_calls, apply=apply_, progress=tick
        )
    click.echo(f"{report.calls} corrected call(s), {report.words} reference words")
    click.echo(f"{'profile':<20} {'WER':>7}  by speaker")
    for r in sorted(report.results, key=lambda r: r.wer):
        speakers = ", ".join(f"{sp} {w:.3f}" for sp, w in sorted(r.by_speaker.items()))
        click.echo(f"{r.name:<20} {r.wer:>7.3f}  {speakers}")
    best, cur = report.best, report.current
    click.echo(f"best: {best.name} (WER {best.wer:.3f}, current {cur.wer:.3f}); candidate: {report.candidate}")
    if report.applied:
        click.echo(f"applied: {obj.settings.asr_profile} now holds '{best.name}'")
    elif apply_:
        click.echo("the current profile is already the best; nothing changed")


@cli.group()
def checklist():
    """Work with checklists.

    \b
    qa-review checklist validate checklists/*.yaml
    """


@checklist.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def checklist_validate(files):
    """Check checklist files; every error names file, line, item path and problem.

    \b
    qa-review checklist validate checklists/clinic-inbound.yaml
    """
    failed = 0
    for f in files:
        try:
            lc = load_checklist(f)
        except QAReviewError as e:
            failed += 1
            click.echo(str(e), err=True)
            continue
        c = lc.checklist
        n = sum(1 for _ in c.items())
        click.echo(f"{f}: ok ({c.id} v{c.version}, {len(c.sections)} sections, {n} items)")
    if failed:
        raise click.ClickException(f"{failed} of {len(files)} checklist(s) invalid")


@cli.command()
@click.option(
    "--checklist",
    "checklist_spec",
    default=None,
    help="Checklist id (in the checklists folder, env QA_REVIEW_CHECKLISTS) or a YAML file. "
    "Default: every checklist that applies to each call.",
)
@click.option("--call", "call_ids", multiple=True, help="Only this call (repeatable).")
@click.option("--all", "all_calls", is_flag=True, help="Every transcribed call (the default when no --call is given).")
@click.option(
    "--rescore",
    is_flag=True,
    help="Score again calls already scored with the same checklist version (automatic scorecards only).",
)
@click.pass_obj
def score(obj: _Ctx, checklist_spec, call_ids, all_calls, rescore):
    """Score transcribed calls against checklists, with evidence for every verdict.

    \b
    qa-review score
    qa-review score --checklist clinic-inbound --call demo-01-booking
    qa-review score --checklist my-draft.yaml --all

    Idempotent: a call already scored with a checklist version is skipped.
    A call that cannot be scored is reported and the rest go on (exit 1).
    """
    if all_calls and call_ids:
        raise click.UsageError("give --call or --all, not both")
    with _ticker("score", "call") as tick:
        report = scoring.score_calls(
            obj.db,
            obj.settings,
            checklist=checklist_spec,
            call_ids=list(call_ids) or None,
            rescore=rescore,
            progress=tick,
        )
    for cid, checklist_id, value in report.scored:
        click.echo(f"{cid:<28} {checklist_id:<24} {'-' if value is None else f'{value:5.1f}'}")
    _conclude("score", report.summary(), report.failed)


@cli.command()
@click.argument("call_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def show(obj: _Ctx, call_id, as_json):
    """A call's metadata, transcript and scorecards with evidence.

    \b
    qa-review show demo-01-booking
    qa-review show demo-01-booking --json
    """
    detail = transcription.call_detail(obj.db, call_id)
    cards = scoring.scorecards(obj.db, call_id)
    call, t = detail["call"], detail["transcript"]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "call": call,
                    "segments": [s.to_dict() for s in t.segments] if t else None,
                    "coverage": {
                        c.speaker: {"speech_s": c.speech_s, "covered_s": c.covered_s, "restored_s": c.restored_s}
                        for c in t.coverage
                    }
                    if t
                    else None,
                    "unheard": [[u.speaker, u.start, u.end] for u in t.unheard] if t else None,
                    "flags": (detail["asr"] or {}).get("flags", []),
                    "scorecards": [
                        {
                            **{k: row[k] for k in ("checklist_id", "checklist_version", "status", "revision")},
                            "score": sc.score,
                            "provisional": sc.provisional,
                            "critical_failed": sc.critical_failed,
                            "passed": sc.passed,
                            "items": [
                                {
                                    **{
                                        k: getattr(i, k)
                                        for k in (
                                            "section_id",
                                            "item_id",
                                            "title",
                                            "kind",
                                            "weight",
                                            "critical",
                                            "verdict",
                                        )
                                    },
                                    "evidence": [e.to_dict() for e in i.evidence],
                                }
                                for i in sc.items
                            ],
                        }
                        for row, sc in cards
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    click.echo(
        f"{call['call_id']}  {call['operator']}  {call['started_at']}  {call['channel']}"
        f"  {call['direction'] or ''}  {call['status']}"
    )
    if t:
        for s in t.segments:
            click.echo(f"  {s.start:7.1f}  {s.speaker:<8} {s.text}")
        if t.coverage:
            click.echo(
                "  speech recognized: "
                + ", ".join(
                    f"{c.speaker} {c.coverage:.0%} of {c.speech_s:.0f} s"
                    + (f" ({c.restored_s:.1f} s by the guard)" if c.restored_s else "")
                    for c in t.coverage
                )
            )
        for u in t.unheard:
            click.echo(f"  UNHEARD  {u.speaker} {u.start:.1f}-{u.end:.1f} s: speech with no recognized word")
        for f in (detail["asr"] or {}).get("flags", []):
            click.echo(f"  FLAG     {f['code']}: {f['detail']}")
    for _row, sc in cards:
        flags = [f for f, on in (("provisional", sc.provisional), ("CRITICAL FAIL", sc.critical_failed)) if on]
        value = "-" if sc.score is None else f"{sc.score:.1f}"
        click.echo(f"\n{sc.checklist_id} v{sc.checklist_version}: {value}  {' '.join(flags)}")
        for i in sc.items:
            click.echo(f"  {i.verdict.upper():<6} {i.item_id:<26} {i.evidence[0].text if i.evidence else ''}")


# The CLI is the server administrator's tool: whoever can run it can open the
# database file, so it acts with admin rights. The app enforces roles per login.
SYSTEM = User("cli", ADMIN, "command line")


@cli.group()
def users():
    """Manage users of the app (the first one must be an admin).

    \b
    qa-review users add admin --role admin
    qa-review users add anna --role operator --team registry --operator-id anna.smirnova
    """


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in ROLES]), required=True)
@click.option("--team", default=None, help="Team name; a supervisor without a team oversees all teams.")
@click.option("--operator-id", default=None, help="For operators: their id in call metadata.")
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option(
    "--spoken-name",
    default=None,
    help="For operators: the name they give on the phone (Анна); checklists' {operator_name}.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="QA_REVIEW_PASSWORD",
    help="Asked for when not given (env QA_REVIEW_PASSWORD).",
)
@click.option("--exist-ok", is_flag=True, help="Do nothing if the user exists (for scripts).")
@click.pass_obj
def users_add(obj: _Ctx, username, role, team, operator_id, display_name, spoken_name, password, exist_ok):
    """Add a user.

    \b
    qa-review users add svetlana --role supervisor --team registry
    """
    if exist_ok and accounts.exists(obj.db, username):
        click.echo(f"user {username} exists")
        return
    actor = None if accounts.count(obj.db) == 0 else SYSTEM
    u = accounts.add_user(
        obj.db,
        actor,
        username,
        password,
        role,
        display_name=display_name,
        team=team,
        operator_id=operator_id,
        spoken_name=spoken_name,
    )
    click.echo(f"added {u.username} ({u.role}{', team ' + u.team if u.team else ''})")


@users.command("list")
@click.pass_obj
def users_list(obj: _Ctx):
    """List active users.

    \b
    qa-review users list
    """
    for u in accounts.list_users(obj.db, SYSTEM):
        click.echo(
            f"{u.username:<20} {u.role:<11} {u.team or '-':<12} {u.operator_id or '-':<20} "
            f"{u.spoken_name or '-':<12} {u.display_name}"
        )


@users.command("edit")
@click.argument("username")
@click.option("--spoken-name", default=None, help="The name they give on the phone; '' removes it.")
@click.pass_obj
def users_edit(obj: _Ctx, username, spoken_name):
    """Change a user's details.

    \b
    qa-review users edit anna --spoken-name Анна
    """
    if spoken_name is None:
        raise click.UsageError("nothing to change: give --spoken-name")
    u = accounts.set_spoken_name(obj.db, SYSTEM, username, spoken_name)
    click.echo(f"{u.username}: spoken name {u.spoken_name or '(none)'}")


@users.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="QA_REVIEW_PASSWORD")
@click.pass_obj
def users_passwd(obj: _Ctx, username, password):
    """Set a user's password.

    \b
    qa-review users passwd anna
    """
    accounts.set_password(obj.db, SYSTEM, username, password)
    click.echo(f"password of {username} changed")


@cli.command()
@click.option("--month", required=True, help="YYYY-MM, in the clinic's time zone.")
@click.option("--per-operator", default=5, show_default=True, type=click.IntRange(0, 1000))
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same sample.")
@click.option(
    "--top-up",
    "top_up",
    default=0,
    type=click.IntRange(0, 100),
    help="Instead: this many more calls for each operator whose bonus band is not certain yet.",
)
@click.pass_obj
def sample(obj: _Ctx, month, per_operator, seed, top_up):
    """Fill the month's review queues: targeted calls plus random ones per operator.

    \b
    qa-review sample --month 2026-11 --per-operator 5 --seed 1

    Targeted: a failed critical item, an automatic score under 60, a call
    over 10 minutes, a complaint tag. Calls are assigned round robin to the
    supervisors of each operator's team.
    """
    if top_up:
        chosen = kpi_service.top_up(obj.db, SYSTEM, month, obj.settings, top_up, seed)
    else:
        chosen = kpi_service.sample(obj.db, SYSTEM, month, obj.settings, per_operator, seed)
    for row in chosen.itertuples():
        click.echo(f"{row.call_id:<28} {row.operator:<18} {row.reason:<10} {row.assignee or '(no supervisor)'}")
    click.echo(f"sample: {len(chosen)} call(s) for {chosen['operator'].nunique()} operator(s)")


@cli.command()
@click.option("--month", required=True, help="YYYY-MM, in the clinic's time zone.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Bonus rules YAML (default rules/monthly-bonus.yaml; env QA_REVIEW_RULES).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file (required for xlsx).")
@click.pass_obj
def kpi(obj: _Ctx, month, fmt, rules_path, output):
    """Monthly KPIs and bonus coefficients per operator, for payroll.

    \b
    qa-review kpi --month 2026-11 --format xlsx -o kpi-2026-11.xlsx
    """
    if fmt == "xlsx" and not output:
        raise click.UsageError("xlsx needs -o FILE.xlsx")
    rep = kpi_service.report(obj.db, SYSTEM, month, obj.settings, rules_path, record=True)
    data = kpi_service.export(rep, fmt)
    if output:
        output.write_bytes(data)
        click.echo(
            f"wrote {output} ({len(rep.operators)} operators, rules {rep.rules_id} v{rep.rules_version}"
            f"{'; figures may change: disputes still open' if rep.may_change else ''})",
            err=True,
        )
    else:
        click.echo(data.decode("utf-8-sig"), nl=False)


@cli.command("kpi-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def kpi_import(obj: _Ctx, file):
    """Import other KPIs (telephony, MIS) per operator and month from CSV.

    \b
    qa-review kpi-import mis-2026-11.csv    # columns: operator, period, booked_share, aht_s, ...
    """
    rep = kpi_service.import_inputs(obj.db, SYSTEM, file.read_text(encoding="utf-8"), str(file))
    _conclude("kpi-import", f"{rep.rows} row(s) imported, {len(rep.errors)} rejected", [("", e) for e in rep.errors])


@cli.group()
def rules():
    """Bonus rules.

    \b
    qa-review rules validate rules/monthly-bonus.yaml
    """


@rules.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rules_validate(files):
    """Check bonus rules files; errors name file, line, path and problem.

    \b
    qa-review rules validate rules/*.yaml
    """
    failed = 0
    for f in files:
        try:
            r = load_rules(f).rules
        except QAReviewError as e:
            failed += 1
            click.echo(str(e), err=True)
            continue
        click.echo(f"{f}: ok ({r.id} v{r.version}, {len(r.quality.bands)} bands, {len(r.inputs)} input(s))")
    if failed:
        raise click.ClickException(f"{failed} of {len(files)} rules file(s) invalid")


@cli.command("search")
@click.argument("query")
@click.option("--operator", default=None)
@click.option("--team", default=None)
@click.option("--channel", type=click.Choice(["phone", "chat", "messenger", "email"]), default=None)
@click.option("--tag", default=None)
@click.option("--from", "date_from", default=None, help="YYYY-MM-DD")
@click.option("--to", "date_to", default=None, help="YYYY-MM-DD")
@click.option("--item", "item_id", default=None, help="Only calls whose final scorecard has this item...")
@click.option("--verdict", type=click.Choice(["pass", "fail", "na"]), default=None, help="...with this verdict.")
@click.option("--speaker", type=click.Choice(["operator", "client", "mixed"]), default=None)
@click.pass_obj
def search_cmd(obj: _Ctx, query, operator, team, channel, tag, date_from, date_to, item_id, verdict, speaker):
    """Search every transcript; Russian word forms match ("записала" finds "записать").

    \b
    qa-review search "позвоните сами"
    qa-review search записать --item confirm_booking --verdict fail
    """
    if verdict and not item_id:
        raise click.UsageError("--verdict needs --item")
    hits = search.search(
        obj.db,
        SYSTEM,
        query,
        operator=operator,
        team=team,
        channel=channel,
        tag=tag,
        date_from=date_from,
        date_to=date_to,
        item_id=item_id,
        verdict=verdict,
        speaker=speaker,
    )
    for h in hits:
        click.echo(f"{h.call_id:<24} {h.start:7.1f}s {h.speaker:<8} {h.operator:<16} {h.highlighted}")
    click.echo(f"{len(hits)} line(s)")


@cli.group("library")
def library_group():
    """The trainers' example library.

    \b
    qa-review library list
    qa-review library export 1 ./examples-objections
    """


@library_group.command("list")
@click.pass_obj
def library_list(obj: _Ctx):
    """Collections with their clips.

    \b
    qa-review library list
    """
    for c in library.collections(obj.db, SYSTEM):
        click.echo(f"{c['id']:>4}  {c['name']}  ({c['clips']} clips)")


@library_group.command("export")
@click.argument("collection_id", type=int)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def library_export(obj: _Ctx, collection_id, folder):
    """Write a collection as audio clips (personal data bleeped) and a masked excerpt document.

    \b
    qa-review library export 1 ./examples
    """
    for f in library.export_collection(obj.db, SYSTEM, collection_id, folder):
        click.echo(str(f))


@cli.group()
def export():
    """Export data for other tools.

    \b
    qa-review export transcripts --format csv > transcripts.csv
    """


@export.command("scores")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@click.pass_obj
def export_scores(obj: _Ctx, fmt, output):
    """Scores: one row per call × checklist item, with verdict and evidence.

    \b
    qa-review export scores --format csv -o scores.csv
    """
    _write(exports.export_scores(obj.db, fmt), output)


@export.command("audit")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@click.pass_obj
def export_audit(obj: _Ctx, fmt, output):
    """The audit log: every verdict change, correction, finalization, dispute, resolution.

    \b
    qa-review export audit -o audit.csv
    """
    rows = review.export_audit(obj.db, SYSTEM)
    if fmt == "json":
        _write(review.audit_json(rows), output)
        return
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(
        buf, fieldnames=["id", "at", "username", "action", "call_id", "scorecard_id", "target", "old", "new", "reason"]
    )
    w.writeheader()
    w.writerows(rows)
    _write(buf.getvalue(), output)


@export.command("transcripts")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--call", "call_id", default=None, help="Only this call.")
@click.option(
    "--redact", is_flag=True, help="Mask phones, e-mails, passport, SNILS, policy and card numbers, birth dates."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@click.pass_obj
def export_transcripts(obj: _Ctx, fmt, call_id, redact, output):
    """Transcripts with call metadata: one row per segment (CSV), or words too (JSON).

    \b
    qa-review export transcripts --format json --call demo-01-booking
    """
    _write(exports.export_transcripts(obj.db, fmt, call_id, redact=redact), output)


def _write(text: str, output: Path | None) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.option("--port", default=8501, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def serve(obj: _Ctx, port, host):
    """Start the web app (Streamlit) on this database.

    \b
    qa-review serve --port 8501
    """
    env = {**os.environ, "QA_REVIEW_DB": str(Path(obj.settings.db_path).resolve())}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(importlib.resources.files("qa_review.ui") / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    click.echo(f"qa-review app: http://{host}:{port}", err=True)
    sys.stderr.flush()
    # Become Streamlit rather than wait for it: a signal to `serve` (Ctrl-C,
    # systemd, a test's terminate()) then stops the app itself.
    os.execve(sys.executable, cmd, env)


def main() -> None:
    cli(prog_name="qa-review")

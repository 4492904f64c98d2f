"""Keeping a clinic's installation sound: backups, restore, what failed."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from qa_review.cli.base import SYSTEM, Ctx, SetupFailed, check_output, cli, ticker
from qa_review.cli.calls import transcribe as transcribe_command
from qa_review.services import archive, audit, backups, doctor, failures, retention


def _bar(desc: str):
    bar = tqdm(desc=desc, unit="page", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, progress


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists (never a database that is not a backup).")
@click.pass_obj
def backup(obj: Ctx, file: Path, force: bool):
    """A consistent copy of the database, safe to take while the app and batch jobs run.

    \b
    qa-review backup /srv/backup/qa-$(date +%F).db
    qa-review backup nightly.db --force

    Made with SQLite's online backup and checked before it gets its name.
    The recordings are not in it: back up their folder too.
    """
    if file.exists() and file.resolve() == Path(obj.settings.db_path).resolve():
        raise SetupFailed(f"{file} is the database itself; write the backup to another file")
    if file.exists() and force:
        backups.inspect(SYSTEM, file)  # --force replaces an old backup, never another database
    elif file.exists() or not file.parent.exists():
        check_output(file, force)
    bar, progress = _bar("backup")
    with bar:
        facts = backups.backup(obj.db, SYSTEM, file, progress)
    click.echo(
        f"backup: {facts.path}: {facts.calls} call(s), {facts.scorecards} scorecard(s), {facts.bytes / 2**20:.1f} MiB"
    )


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore(obj: Ctx, file: Path, yes: bool):
    """Put a backup in place of the database; what it replaces is kept beside it.

    \b
    qa-review restore /srv/backup/qa-2026-11-20.db

    The backup is checked first (SQLite's quick check, a qa-review schema
    no newer than this program). Stop batch jobs before restoring; the app
    may stay up and shows the restored data on its next page load.
    """
    facts = backups.inspect(SYSTEM, file)
    db_path = obj.settings.db_path
    click.echo(f"{file}: {facts.calls} call(s), {facts.scorecards} scorecard(s), {facts.bytes / 2**20:.1f} MiB")
    if not yes:
        click.confirm(f"replace the content of {db_path} with it?", abort=True)
    bar, progress = _bar("restore")
    with bar:
        _, kept = backups.restore(obj.open(create=True), SYSTEM, file, db_path, progress)
    click.echo(f"restore: {db_path} now holds the backup; what it held before is in {kept}")


@cli.command("errors")
@click.option("--retry", is_flag=True, help="Ingest the failed inputs again, then transcribe the failed calls again.")
@click.option("--dismiss", "dismissed", type=int, multiple=True, help="Settle this ingest error by hand (repeatable).")
@click.pass_context
def errors_cmd(ctx: click.Context, retry: bool, dismissed: tuple[int, ...]):
    """Failed ingests and transcriptions still failing, with their reasons.

    \b
    qa-review errors
    qa-review errors --retry
    qa-review errors --dismiss 17 --dismiss 18    # not calls: stop listing them

    An ingest error is settled when a later run ingests that input; a failed
    call when a later run transcribes it. Exits 1 while anything is failing.
    """
    obj: Ctx = ctx.obj
    if dismissed:
        click.echo(f"dismissed {failures.dismiss(obj.db, SYSTEM, list(dismissed))} ingest error(s)")
    if retry:
        with ticker("ingest", "file") as tick:
            reports = failures.retry_ingests(obj.db, SYSTEM, obj.settings, tick)
        for r in reports:
            click.echo(f"ingest again: {r.summary()}")
        failed_calls = [c["call_id"] for c in failures.failures(obj.db, SYSTEM).transcription]
        if failed_calls:
            try:
                ctx.invoke(transcribe_command, call_ids=failed_calls)
            except SystemExit:
                pass  # its own exit code says some failed again; the list below says which
    now = failures.failures(obj.db, SYSTEM)
    for e in now.ingest:
        click.echo(f"ingest #{e['id']:<5} {e['at'][:16]}  {e['path']}\n    {e['reason']}")
    for c in now.transcription:
        click.echo(f"transcribe {c['call_id']}\n    {c['error']}")
    click.echo(f"errors: {len(now.ingest)} input(s) not ingested, {len(now.transcription)} call(s) not transcribed")
    if now:
        sys.exit(1)


@cli.group("audit")
def audit_group():
    """The audit log's integrity.

    \b
    qa-review audit verify
    """


@audit_group.command("verify")
@click.pass_obj
def audit_verify(obj: Ctx):
    """Check the audit log's hash chain; name the first entry that was changed, removed or moved.

    \b
    qa-review audit verify

    Each entry is chained by hash to the one before it. Note the head it
    prints somewhere else (with the backups): a later check that reaches the
    same head proves no entry up to it was touched, even by someone who
    rewrote the whole chain. Exits 1 when the chain is broken.
    """
    check = audit.verify(obj.db, SYSTEM)
    if check.broken_at is not None:
        click.echo(
            f"audit: BROKEN at entry {check.broken_at}: it was changed, or an entry before it was removed "
            f"or moved; entries before it hold (head there {check.head})"
        )
        sys.exit(1)
    click.echo(f"audit: {check.entries} entries, chain intact; head {check.head}")


@cli.command("archive")
@click.pass_obj
def archive_cmd(obj: Ctx):
    """Copy the recordings of calls ingested before the archive into it.

    \b
    qa-review archive

    Since the archive, ingest keeps every recording under the data folder
    (data_dir/recordings), so moving or deleting the PBX's folder loses
    nothing. Calls ingested earlier still point at their original files: this
    copies each one that is still there with the content that was ingested,
    and lists those that are not. Safe to run again. Exits 1 if any recording
    could not be reached.
    """
    with ticker("archive", "call") as tick:
        report = archive.archive_existing(obj.db, SYSTEM, obj.settings, progress=tick)
    for call_id, why in report.unreachable:
        click.echo(f"NOT REACHABLE {call_id}: {why}", err=True)
    click.echo(f"archive: {report.summary()} (in {archive.folder(obj.settings)})")
    if report.unreachable:
        raise SystemExit(1)


@cli.group("retention")
def retention_group():
    """The audio retention policy (audio_retention_months in qa-review.yaml)."""


@retention_group.command("apply")
@click.option(
    "--months",
    type=click.IntRange(min=1),
    default=None,
    help="Keep recordings this many months (default: the configuration's audio_retention_months).",
)
@click.option("--delete", is_flag=True, help="Remove them; without it, only list what would be removed.")
@click.pass_obj
def retention_apply(obj: Ctx, months, delete):
    """Remove recordings older than the retention period; transcripts, scores and the audit stay.

    \b
    qa-review retention apply               # dry run: what would go, and what is kept
    qa-review retention apply --delete      # e.g. nightly from cron

    Never removed: a call under dispute, one still in its dispute window, one
    in an example collection, a recording not transcribed yet.
    """
    plan = retention.retention(obj.db, SYSTEM, obj.settings, months=months, delete=delete)
    if not delete:
        for c in plan.calls[:20]:
            click.echo(f"  {c['started_at'][:10]}  {c['call_id']}")
        if len(plan.calls) > 20:
            click.echo(f"  ... and {len(plan.calls) - 20} more")
    click.echo(f"retention: {plan.summary()}")


@cli.command("migrate")
@click.pass_obj
def migrate_cmd(obj: Ctx):
    """Upgrade the database's schema now; a copy of it is taken first, beside it.

    \b
    qa-review migrate

    After installing a new qa-review (see the README's Upgrades), with the app
    and the intake stopped. Any command upgrades the database it opens the
    same way, copy included; this does it on purpose, and says what it did.
    """
    done, schema = backups.migrate(SYSTEM, obj.settings.db_path)
    if done.backup is not None:
        click.echo(f"copy before the upgrade: {done.backup}")
    if done.applied:
        click.echo(f"applied: {', '.join(done.applied)}")
    click.echo(f"migrate: schema {schema}" + ("" if done.applied else " (already up to date)"))


@cli.command("doctor")
@click.option("--port", default=8501, show_default=True, type=int, help="The app's port to check.")
@click.option("--no-load", is_flag=True, help="Only check the ASR model is installed; do not load it.")
@click.pass_obj
def doctor_cmd(obj: Ctx, port, no_load):
    """Check this deployment: configuration, database and schema, model, checklists, rules, archive, port.

    \b
    qa-review doctor
    qa-review --config /etc/qa-review/qa-review.yaml doctor --port 8501

    Each piece is checked on its own, and each problem says what to do.
    Exits 1 if anything failed (a warning alone exits 0).
    """
    findings = doctor.check(SYSTEM, obj.effective, config_error=obj.config_error, port=port, load_model=not no_load)
    for f in findings:
        lines = f.detail.splitlines() or [""]
        click.echo(f"{f.status:<4}  {f.what:<18}  {lines[0]}")
        for more in lines[1:]:
            click.echo(f"{'':<4}  {'':<18}  {more}")
    failed = [f.what for f in findings if f.status == doctor.FAIL]
    click.echo(
        f"doctor: {len(findings) - len(failed)} of {len(findings)} fine"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    if failed:
        raise SystemExit(1)

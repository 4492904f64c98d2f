"""Keeping a clinic's installation sound: backups, restore."""

from __future__ import annotations

from pathlib import Path

import click
from tqdm import tqdm

from qa_review.cli.base import SYSTEM, Ctx, SetupFailed, check_output, cli
from qa_review.services import backups


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

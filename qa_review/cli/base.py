"""The command group, its context and the helpers every command uses."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click
from tqdm import tqdm

from qa_review.core.errors import QAReviewError
from qa_review.core.permissions import ADMIN, User
from qa_review.services import (
    database,
)
from qa_review.services.settings import from_env


class Ctx:
    def __init__(self, db_path: str | None):
        self.settings = from_env()
        self._db = None
        if db_path:
            self.use_db(db_path)

    def use_db(self, db_path: str) -> None:
        self.settings = self.settings.with_(db_path=Path(db_path))

    @property
    def db(self):
        """The database, which must exist: a command that reads never makes an empty one."""
        return self.open(create=False)

    def open(self, *, create: bool):
        if self._db is None:
            self._db = database.open_database(self.settings.db_path, create=create)
        return self._db


class SetupFailed(click.ClickException):
    """A usage or set-up error found before any item was tried: exit code 2 (1 is for failed items)."""

    exit_code = 2


def _db_after_command(ctx: click.Context, _param, value: str | None) -> None:
    if value is not None:
        ctx.find_object(Ctx).use_db(value)


class Command(click.Command):
    """Every command also takes ``--db`` after its name: ``qa-review calls --db x.db`` works as well."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.append(
            click.Option(
                ["--db", "db_after"],
                default=None,
                expose_value=False,
                is_eager=True,
                callback=_db_after_command,
                help="SQLite database file (default: qa_review.db here; env QA_REVIEW_DB).",
            )
        )


class Group(click.Group):
    command_class = Command
    group_class = type  # subgroups are Groups too, so their commands take --db as well

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAReviewError as e:
            raise SetupFailed(str(e)) from e


@contextmanager
def ticker(desc: str, unit: str):
    """A progress bar on stderr (silent when not a terminal); yields its tick."""
    bar = tqdm(desc=desc, unit=unit, file=sys.stderr, disable=None)

    def tick(msg: str) -> None:
        bar.set_postfix_str(msg[-40:])
        bar.update(1)

    try:
        yield tick
    finally:
        bar.close()


def conclude(command: str, summary: str, failures: list[tuple[str, str]]) -> None:
    """Print each failure and the summary; exit 1 if anything failed."""
    for _, reason in failures:
        click.echo(f"FAILED {reason}", err=True)
    click.echo(f"{command}: {summary}")
    if failures:
        sys.exit(1)


@click.group(cls=Group)
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
    ctx.obj = Ctx(db_path)


def print_table(title: str, rows: list[dict]) -> None:
    click.echo(f"\n{title:<24} {'calls':>6} {'lines':>6} {'words':>7} {'WER':>7}")
    for r in rows:
        w = "-" if r["wer"] is None else f"{r['wer']:.3f}"
        click.echo(f"{str(r['key'])[:24]:<24} {r['calls']:>6} {r['lines']:>6} {r['words']:>7} {w:>7}")


def write_out(text: str, output: Path | None) -> None:
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise SetupFailed(f"cannot write {output}: {e.strerror}; check the folder exists and is writable") from e
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


SYSTEM = User("cli", ADMIN, "command line")

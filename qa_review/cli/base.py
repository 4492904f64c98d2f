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
        if db_path:
            self.settings = self.settings.with_(db_path=Path(db_path))
        self._db = None

    @property
    def db(self):
        if self._db is None:
            self._db = database.open_database(self.settings.db_path)
        return self._db


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAReviewError as e:
            raise click.ClickException(str(e)) from e


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
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


SYSTEM = User("cli", ADMIN, "command line")

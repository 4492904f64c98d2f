"""The command group, its context and the helpers every command uses."""

from __future__ import annotations

import getpass
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from tqdm import tqdm

from qa_review.core.errors import ConfigError, QAReviewError
from qa_review.core.permissions import system_actor
from qa_review.core.spreadsheet import EXCEL, PLAIN
from qa_review.services import (
    database,
    logs,
)
from qa_review.services.settings import Effective, Settings, load


class Ctx:
    def __init__(self, db_path: str | None, config: str | None = None):
        # A broken configuration stops every command but `doctor`, which
        # reports it and checks the rest on the defaults.
        self.config_error: ConfigError | None = None
        self.log_error: ConfigError | None = None  # doctor checks the log on its own
        try:
            self.effective: Effective = load(config)
        except ConfigError as e:
            self.config_error = e
            self.effective = Effective(Settings(), {}, None)
        self._db = None
        if db_path:
            self.use_db(db_path)

    def start_log(self, command: str | None) -> None:
        """The log as the settings say (a log file that cannot be written is a configuration error)."""
        if self.config_error is not None:
            return
        try:
            logs.configure_from(self.effective.settings)
        except ConfigError as e:
            self.log_error = e
            return
        logs.event("command", "debug", command=command)

    @property
    def settings(self) -> Settings:
        if self.config_error is not None or self.log_error is not None:
            raise self.config_error or self.log_error
        return self.effective.settings

    def use_db(self, db_path: str) -> None:
        settings = self.effective.settings.with_(db_path=Path(db_path))
        self.effective = Effective(
            settings, {**self.effective.sources, "database": "option --db"}, self.effective.config
        )

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
            logs.event(
                "command failed", "error", command=ctx.invoked_subcommand, error=type(e).__name__, message=str(e)
            )
            raise SetupFailed(str(e)) from e
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # a refusal or a stop, already said to the user
        except Exception as e:
            if not getattr(e, "_qa_logged", False):  # a subgroup's crash passes through its group too
                logs.crash("command crashed", command=ctx.invoked_subcommand)
                e._qa_logged = True
            raise


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
    default=None,
    help="SQLite database file (default: the configuration's, else qa_review.db here; env QA_REVIEW_DB).",
)
@click.option(
    "--config",
    "config",
    default=None,
    type=click.Path(dir_okay=False),
    help="The site's configuration file (default: env QA_REVIEW_CONFIG, else ./qa-review.yaml if there is one).",
)
@click.version_option(package_name="qa-review")
@click.pass_context
def cli(ctx, db_path, config):
    """Quality review of contact-center calls, run locally.

    \b
    qa-review models install base
    qa-review ingest recordings/ --manifest recordings/manifest.csv
    qa-review transcribe
    qa-review score
    qa-review serve
    """
    ctx.obj = Ctx(db_path, config)
    ctx.obj.start_log(ctx.invoked_subcommand)


def print_table(title: str, rows: list[dict]) -> None:
    click.echo(f"\n{title:<24} {'calls':>6} {'lines':>6} {'words':>7} {'WER':>7}")
    for r in rows:
        w = "-" if r["wer"] is None else f"{r['wer']:.3f}"
        click.echo(f"{str(r['key'])[:24]:<24} {r['calls']:>6} {r['lines']:>6} {r['words']:>7} {w:>7}")


def output_options(command):
    """``-o FILE`` and ``--force``, for the commands that write an export."""
    command = click.option(
        "--force", is_flag=True, help="Replace the output file if it exists (never a SQLite database)."
    )(command)
    return click.option(
        "-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of standard output."
    )(command)


def dialect_option(command):
    """``--excel/--plain`` for a CSV for people; neither: Excel's when writing a file, plain on standard output."""
    return click.option(
        "--excel/--plain",
        "excel",
        default=None,
        help="CSV for Russian Excel (BOM, ';', decimal comma, да/нет; the default with -o) "
        "or plain RFC 4180 (',', '.', 1/0; the default on standard output).",
    )(command)


def dialect_of(excel: bool | None, output) -> str:
    return EXCEL if excel or (excel is None and output) else PLAIN


SQLITE_HEADER = b"SQLite format 3\x00"


def check_output(output: Path, force: bool) -> None:
    """Refuse to write an export where it would destroy something: a database always, any file without --force."""
    if output.is_dir():
        raise SetupFailed(f"{output} is a folder; give a file name, e.g. {output / 'export.csv'}")
    if not output.exists():
        if not output.parent.exists():
            raise SetupFailed(f"cannot write {output}: the folder {output.parent} does not exist; create it first")
        return
    with open(output, "rb") as f:
        if f.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
            raise SetupFailed(
                f"{output} is a SQLite database (perhaps qa-review's own); an export never replaces one, "
                "even with --force: choose another file name"
            )
    if not force:
        raise SetupFailed(f"{output} exists; pass --force to replace it, or choose another file name")


def write_out(data: str | bytes, output: Path | None, force: bool = False, *, quiet: bool = False) -> None:
    if not output:
        click.echo(data if isinstance(data, str) else data.decode("utf-8-sig"), nl=False)
        return
    check_output(output, force)
    try:
        if isinstance(data, str):
            output.write_text(data, encoding="utf-8")
        else:
            output.write_bytes(data)
    except OSError as e:
        raise SetupFailed(f"cannot write {output}: {e.strerror}; check the folder exists and is writable") from e
    if not quiet:
        click.echo(f"wrote {output}", err=True)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return str(os.getuid())


# The command line acts as an admin; the audit names it with the OS account that ran it.
SYSTEM = system_actor(_os_user())

"""The PBX call log: cdr import, cdr report."""

from __future__ import annotations

from pathlib import Path

import click

from qa_review.cli.base import (
    SYSTEM,
    Ctx,
    check_output,
    cli,
    conclude,
    dialect_of,
    dialect_option,
    output_options,
    write_out,
)
from qa_review.services import call_log


@cli.group("cdr")
def cdr_group():
    """The PBX call log: every call, answered or not (lost calls, callbacks, service level, AHT, FCR).

    \b
    qa-review cdr import calls-2026-11.csv
    qa-review cdr report --month 2026-11 --format xlsx -o cdr-2026-11.xlsx
    """


@cdr_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def cdr_import(obj: Ctx, file: Path):
    """Import a call log CSV (comma, semicolon or tab; UTF-8).

    \b
    qa-review cdr import calls-2026-11.csv

    \b
    Columns: call_id, started_at, direction (inbound|outbound), phone, queue,
    operator (empty when nobody answered), status (answered|missed|abandoned),
    wait_s, talk_s, hold_s; optional recording (the file name).

    Importing a log again updates its rows. A row links to its recording by
    call_id, else by file name, and fills what the recording lacks (operator,
    direction, phone, queue). Bad rows are listed; the rest go in; exit 1 if any.
    """
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise click.ClickException(
            f"{file}: not UTF-8 (byte {e.start}); save the log as CSV UTF-8 (Excel: 'CSV UTF-8'), "
            "or convert it: iconv -f cp1251 -t utf-8"
        ) from e
    rep = call_log.import_call_log(obj.db, SYSTEM, text, obj.settings, str(file))
    conclude("cdr import", rep.summary(), [("", e) for e in rep.errors])


@cdr_group.command("report")
@click.option("--month", required=True, help="YYYY-MM, in the clinic's time zone.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True)
@dialect_option
@output_options
@click.pass_obj
def cdr_report(obj: Ctx, month, fmt, excel, output, force):
    """Lost calls, callbacks, service level and AHT per queue; AHT, FCR and hold per operator.

    \b
    qa-review cdr report --month 2026-11
    qa-review cdr report --month 2026-11 --format xlsx -o cdr-2026-11.xlsx

    The rules (what counts as lost, the callback window, the service-level
    threshold, the FCR window) are in rules/call-log.yaml (env
    QA_REVIEW_CALL_LOG_RULES).
    """
    if fmt == "xlsx" and not output:
        raise click.UsageError("xlsx needs -o FILE.xlsx")
    if output:
        check_output(output, force)
    rep = call_log.report(obj.db, SYSTEM, month, obj.settings)
    write_out(call_log.export(rep, fmt, dialect_of(excel, output)), output, force)

"""Exports for other tools: scores, audit, transcripts; masked unless --no-redact."""

from __future__ import annotations

import click

from qa_review.cli.base import SYSTEM, Ctx, cli, dialect_of, dialect_option, output_options, write_out
from qa_review.services import exports


@cli.group()
def export():
    """Export data for other tools; personal data is masked unless --no-redact.

    \b
    qa-review export transcripts --format csv > transcripts.csv
    """


def redact_option(command):
    return click.option(
        "--redact/--no-redact",
        default=True,
        show_default=True,
        help="Mask phones, e-mails, passport, SNILS, policy and card numbers, birth dates. "
        "--no-redact (admins) writes them in clear and is recorded in the audit.",
    )(command)


@export.command("scores")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@redact_option
@dialect_option
@output_options
@click.pass_obj
def export_scores(obj: Ctx, fmt, redact, excel, output, force):
    """Scores: one row per call × checklist item, with verdict and evidence.

    \b
    qa-review export scores --format csv -o scores.csv
    """
    data = exports.export_scores(obj.db, SYSTEM, fmt, redact=redact, dialect=dialect_of(excel, output))
    write_out(data, output, force)


@export.command("audit")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@redact_option
@dialect_option
@output_options
@click.pass_obj
def export_audit(obj: Ctx, fmt, redact, excel, output, force):
    """The audit log: every verdict change, correction, finalization, dispute, resolution.

    \b
    qa-review export audit -o audit.csv
    """
    data = exports.export_audit(obj.db, SYSTEM, fmt, redact=redact, dialect=dialect_of(excel, output))
    write_out(data, output, force)


@export.command("transcripts")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--call", "call_id", default=None, help="Only this call.")
@redact_option
@dialect_option
@output_options
@click.pass_obj
def export_transcripts(obj: Ctx, fmt, call_id, redact, excel, output, force):
    """Transcripts with call metadata: one row per segment (CSV), or words too (JSON).

    \b
    qa-review export transcripts --format json --call demo-01-booking
    qa-review export transcripts --no-redact -o for-the-lab.json   # admins; recorded in the audit
    """
    data = exports.export_transcripts(obj.db, SYSTEM, fmt, call_id, redact=redact, dialect=dialect_of(excel, output))
    write_out(data, output, force)

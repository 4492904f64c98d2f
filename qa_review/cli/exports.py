"""Exports for other tools: scores, audit, transcripts."""

from __future__ import annotations

import click

from qa_review.cli.base import SYSTEM, Ctx, cli, output_options, write_out
from qa_review.services import (
    exports,
    review,
)


@cli.group()
def export():
    """Export data for other tools.

    \b
    qa-review export transcripts --format csv > transcripts.csv
    """


@export.command("scores")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@output_options
@click.pass_obj
def export_scores(obj: Ctx, fmt, output, force):
    """Scores: one row per call × checklist item, with verdict and evidence.

    \b
    qa-review export scores --format csv -o scores.csv
    """
    write_out(exports.export_scores(obj.db, fmt), output, force)


@export.command("audit")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True)
@output_options
@click.pass_obj
def export_audit(obj: Ctx, fmt, output, force):
    """The audit log: every verdict change, correction, finalization, dispute, resolution.

    \b
    qa-review export audit -o audit.csv
    """
    rows = review.export_audit(obj.db, SYSTEM)
    write_out(review.audit_json(rows) if fmt == "json" else exports.audit_csv(rows), output, force)


@export.command("transcripts")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--call", "call_id", default=None, help="Only this call.")
@click.option(
    "--redact", is_flag=True, help="Mask phones, e-mails, passport, SNILS, policy and card numbers, birth dates."
)
@output_options
@click.pass_obj
def export_transcripts(obj: Ctx, fmt, call_id, redact, output, force):
    """Transcripts with call metadata: one row per segment (CSV), or words too (JSON).

    \b
    qa-review export transcripts --format json --call demo-01-booking
    """
    write_out(exports.export_transcripts(obj.db, fmt, call_id, redact=redact), output, force)

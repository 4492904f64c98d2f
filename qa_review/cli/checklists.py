"""Checking the YAML files: checklist validate, rules validate."""

from __future__ import annotations

from pathlib import Path

import click

from qa_review.cli.base import cli
from qa_review.core.call_log_rules import CallLogRules
from qa_review.core.errors import QAReviewError
from qa_review.services.catalog import load_any_rules, load_checklist


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


@cli.group()
def rules():
    """Bonus rules.

    \b
    qa-review rules validate rules/monthly-bonus.yaml
    """


@rules.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rules_validate(files):
    """Check bonus rules and call log rules files; errors name file, line, path and problem.

    \b
    qa-review rules validate rules/*.yaml
    """
    failed = 0
    for f in files:
        try:
            r = load_any_rules(f).rules
        except QAReviewError as e:
            failed += 1
            click.echo(str(e), err=True)
            continue
        if isinstance(r, CallLogRules):
            click.echo(
                f"{f}: ok ({r.id} v{r.version}, call log: lost from {r.lost_min_wait_s:g} s, callback within "
                f"{r.callback_window_min:g} min, service level {r.service_level_s:g} s, FCR {r.fcr_window_days:g} days)"
            )
        else:
            click.echo(f"{f}: ok ({r.id} v{r.version}, {len(r.quality.bands)} bands, {len(r.inputs)} input(s))")
    if failed:
        raise click.ClickException(f"{failed} of {len(files)} rules file(s) invalid")

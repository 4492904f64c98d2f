"""Sampling and KPIs: sample, kpi, kpi-import, kpi-rebuild."""

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
from qa_review.services import kpis as kpi_service


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
def sample(obj: Ctx, month, per_operator, seed, top_up):
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
@dialect_option
@output_options
@click.pass_obj
def kpi(obj: Ctx, month, fmt, rules_path, excel, output, force):
    """Monthly KPIs and bonus coefficients per operator, for payroll.

    \b
    qa-review kpi --month 2026-11 --format xlsx -o kpi-2026-11.xlsx
    """
    if fmt == "xlsx" and not output:
        raise click.UsageError("xlsx needs -o FILE.xlsx")
    if output:
        check_output(output, force)  # before the report is recorded as exported
    rep = kpi_service.report(obj.db, SYSTEM, month, obj.settings, rules_path, record=True)
    data = kpi_service.export(rep, fmt, dialect_of(excel, output))
    if output:
        write_out(data, output, force, quiet=True)
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
def kpi_import(obj: Ctx, file):
    """Import other KPIs (telephony, MIS) per operator and month from CSV.

    \b
    qa-review kpi-import mis-2026-11.csv    # columns: operator, period, booked_share, aht_s, ...
    """
    rep = kpi_service.import_inputs(obj.db, SYSTEM, file.read_text(encoding="utf-8"), str(file))
    conclude("kpi-import", f"{rep.rows} row(s) imported, {len(rep.errors)} rejected", [("", e) for e in rep.errors])


@cli.command("kpi-rebuild")
@click.pass_obj
def kpi_rebuild(obj: Ctx):
    """Recompute the monthly KPI rollups from the scorecards.

    \b
    qa-review kpi-rebuild

    Never needed in normal use: every change marks its month and operator, and
    the next report recomputes them. For after restoring or hand-editing rows.
    """
    n = kpi_service.rebuild_rollups(obj.db, SYSTEM)
    click.echo(f"kpi-rebuild: {n} operator-month(s) recomputed")

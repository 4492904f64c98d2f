"""config show: the settings in force and where each came from."""

from __future__ import annotations

import json

import click

from qa_review.cli.base import Ctx, cli


@cli.group()
def config():
    """The site's configuration (qa-review.yaml, the environment, options)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="As JSON: [{setting, value, source}].")
@click.pass_obj
def show(obj: Ctx, as_json):
    """Print every setting in force, and where it came from.

    \b
    qa-review config show
    qa-review --config /etc/qa-review/qa-review.yaml config show

    A setting comes from the first of: a command-line option, the
    environment (QA_REVIEW_...), the configuration file (FILE:LINE), the
    default.
    """
    obj.settings  # noqa: B018  (a broken configuration is said here, with its lines)
    rows = obj.effective.rows()
    if as_json:
        click.echo(json.dumps([{"setting": s, "value": v, "source": f} for s, v, f in rows], ensure_ascii=False))
        return
    where = obj.effective.config
    click.echo(f"configuration file: {where}" if where else "configuration file: none (defaults and environment)")
    width = max(len(s) for s, _, _ in rows)
    vwidth = min(48, max(len(v) for _, v, _ in rows))
    for setting, value, source in rows:
        click.echo(f"{setting:<{width}}  {value:<{vwidth}}  {source}")

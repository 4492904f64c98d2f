"""Trainers' tools: search, library list|export."""

from __future__ import annotations

from pathlib import Path

import click

from qa_review.cli.base import SYSTEM, Ctx, cli
from qa_review.services import (
    library,
    search,
)


@cli.command("search")
@click.argument("query")
@click.option("--operator", default=None)
@click.option("--team", default=None)
@click.option("--channel", type=click.Choice(["phone", "chat", "messenger", "email"]), default=None)
@click.option("--tag", default=None)
@click.option("--from", "date_from", default=None, help="YYYY-MM-DD")
@click.option("--to", "date_to", default=None, help="YYYY-MM-DD")
@click.option("--item", "item_id", default=None, help="Only calls whose final scorecard has this item...")
@click.option("--verdict", type=click.Choice(["pass", "fail", "na"]), default=None, help="...with this verdict.")
@click.option("--speaker", type=click.Choice(["operator", "client", "mixed"]), default=None)
@click.pass_obj
def search_cmd(obj: Ctx, query, operator, team, channel, tag, date_from, date_to, item_id, verdict, speaker):
    """Search every transcript; Russian word forms match ("записала" finds "записать").

    \b
    qa-review search "позвоните сами"
    qa-review search записать --item confirm_booking --verdict fail
    """
    if verdict and not item_id:
        raise click.UsageError("--verdict needs --item")
    hits = search.search(
        obj.db,
        SYSTEM,
        query,
        operator=operator,
        team=team,
        channel=channel,
        tag=tag,
        date_from=date_from,
        date_to=date_to,
        item_id=item_id,
        verdict=verdict,
        speaker=speaker,
    )
    for h in hits:
        click.echo(f"{h.call_id:<24} {h.start:7.1f}s {h.speaker:<8} {h.operator:<16} {h.highlighted}")
    click.echo(f"{len(hits)} line(s)")


@cli.group("library")
def library_group():
    """The trainers' example library.

    \b
    qa-review library list
    qa-review library export 1 ./examples-objections
    """


@library_group.command("list")
@click.pass_obj
def library_list(obj: Ctx):
    """Collections with their clips.

    \b
    qa-review library list
    """
    for c in library.collections(obj.db, SYSTEM):
        click.echo(f"{c['id']:>4}  {c['name']}  ({c['clips']} clips)")


@library_group.command("export")
@click.argument("collection_id", type=int)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def library_export(obj: Ctx, collection_id, folder):
    """Write a collection as audio clips (personal data bleeped) and a masked excerpt document.

    \b
    qa-review library export 1 ./examples
    """
    for f in library.export_collection(obj.db, SYSTEM, collection_id, folder):
        click.echo(str(f))

"""Users: add, list, edit, passwd, set-role, disable, enable, link-sso, unlink-sso."""

from __future__ import annotations

import click

from qa_review.cli.base import SYSTEM, Ctx, cli
from qa_review.core.permissions import ROLES
from qa_review.services import (
    accounts,
)


@cli.group()
def users():
    """Manage users of the app (the first one must be an admin).

    \b
    qa-review users add admin --role admin
    qa-review users add anna --role operator --team registry --operator-id anna.smirnova
    """


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in ROLES]), required=True)
@click.option("--team", default=None, help="Team name; a supervisor without a team oversees all teams.")
@click.option("--operator-id", default=None, help="For operators: their id in call metadata.")
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option(
    "--spoken-name",
    default=None,
    help="For operators: the name they give on the phone (Анна); checklists' {operator_name}.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="QA_REVIEW_PASSWORD",
    help="Asked for when not given (env QA_REVIEW_PASSWORD).",
)
@click.option("--exist-ok", is_flag=True, help="Do nothing if the user exists (for scripts).")
@click.option("--demo", is_flag=True, help="A demo account (its password is published): the app warns whoever uses it.")
@click.pass_obj
def users_add(obj: Ctx, username, role, team, operator_id, display_name, spoken_name, password, exist_ok, demo):
    """Add a user.

    \b
    qa-review users add svetlana --role supervisor --team registry
    """
    db = obj.open(create=True)  # the first admin is added to a new database
    if exist_ok and accounts.exists(db, username):
        click.echo(f"user {username} exists")
        return
    actor = None if accounts.count(db) == 0 else SYSTEM
    u = accounts.add_user(
        db,
        actor,
        username,
        password,
        role,
        display_name=display_name,
        team=team,
        operator_id=operator_id,
        spoken_name=spoken_name,
        demo=demo,
    )
    click.echo(f"added {u.username} ({u.role}{', team ' + u.team if u.team else ''})")


@users.command("list")
@click.pass_obj
def users_list(obj: Ctx):
    """List active users.

    \b
    qa-review users list
    """
    for u in accounts.list_users(obj.db, SYSTEM):
        click.echo(
            f"{u.username:<20} {u.role:<11} {u.team or '-':<12} {u.operator_id or '-':<20} "
            f"{u.spoken_name or '-':<12} {u.sso_identity or '-':<24} {u.display_name}"
        )


@users.command("edit")
@click.argument("username")
@click.option("--spoken-name", default=None, help="The name they give on the phone; '' removes it.")
@click.pass_obj
def users_edit(obj: Ctx, username, spoken_name):
    """Change a user's details.

    \b
    qa-review users edit anna --spoken-name Анна
    """
    if spoken_name is None:
        raise click.UsageError("nothing to change: give --spoken-name")
    u = accounts.set_spoken_name(obj.db, SYSTEM, username, spoken_name)
    click.echo(f"{u.username}: spoken name {u.spoken_name or '(none)'}")


@users.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="QA_REVIEW_PASSWORD")
@click.pass_obj
def users_passwd(obj: Ctx, username, password):
    """Set a user's password.

    \b
    qa-review users passwd anna
    """
    accounts.set_password(obj.db, SYSTEM, username, password)
    click.echo(f"password of {username} changed")


@users.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in ROLES]), required=True)
@click.option("--team", default=None, help="Team name; none: a supervisor oversees every team.")
@click.option("--operator-id", default=None, help="For operators: their id in call metadata.")
@click.pass_obj
def users_set_role(obj: Ctx, username, role, team, operator_id):
    """Change a user's role, team and operator id; their open sessions end.

    \b
    qa-review users set-role svetlana --role supervisor --team registry
    """
    u = accounts.change_role(obj.db, SYSTEM, username, role=role, team=team, operator_id=operator_id)
    click.echo(f"{u.username}: {u.role}, team {u.team or '-'}, operator id {u.operator_id or '-'}")


@users.command("disable")
@click.argument("username")
@click.pass_obj
def users_disable(obj: Ctx, username):
    """Disable a user: they can no longer log in, and their open sessions end now.

    \b
    qa-review users disable petr
    """
    accounts.set_active(obj.db, SYSTEM, username, False)
    click.echo(f"{username} disabled")


@users.command("enable")
@click.argument("username")
@click.pass_obj
def users_enable(obj: Ctx, username):
    """Let a disabled user log in again.

    \b
    qa-review users enable petr
    """
    accounts.set_active(obj.db, SYSTEM, username, True)
    click.echo(f"{username} enabled")


@users.command("link-sso")
@click.argument("username")
@click.argument("identity")
@click.pass_obj
def users_link_sso(obj: Ctx, username, identity):
    """Let the directory identity IDENTITY (the claim QA_REVIEW_SSO_CLAIM names, e-mail by default) log in as USERNAME.

    \b
    qa-review users link-sso svetlana svetlana.ivanova@clinic.ru
    """
    u = accounts.link_sso(obj.db, SYSTEM, username, identity)
    click.echo(f"{u.username}: single sign-on as {u.sso_identity}")


@users.command("unlink-sso")
@click.argument("username")
@click.pass_obj
def users_unlink_sso(obj: Ctx, username):
    """Stop single sign-on as USERNAME (the password still works).

    \b
    qa-review users unlink-sso svetlana
    """
    accounts.link_sso(obj.db, SYSTEM, username, None)
    click.echo(f"{username}: single sign-on unlinked")

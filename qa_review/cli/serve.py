"""serve: run the web app."""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import click

from qa_review.cli.base import Ctx, cli
from qa_review.services import sso


@cli.command()
@click.option("--port", default=8501, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--sso-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML file with the identity provider's [auth] section: single sign-on [env QA_REVIEW_SSO_CONFIG].",
)
@click.pass_obj
def serve(obj: Ctx, port, host, sso_config):
    """Start the web app (Streamlit) on this database.

    \b
    qa-review serve --port 8501
    qa-review serve --sso-config /etc/qa-review/sso.toml
    """
    obj.db.close()  # a missing, foreign or unwritable database is said here, not in the browser
    sso_config = sso_config or obj.settings.sso_config
    if sso_config is not None:
        provider = sso.check_config(sso_config)
        click.echo(f"single sign-on: {provider} ({sso_config})", err=True)
    env = {**os.environ, "QA_REVIEW_DB": str(Path(obj.settings.db_path).resolve())}
    if obj.effective.config is not None:  # the app reads the same file, wherever it was found
        env["QA_REVIEW_CONFIG"] = str(obj.effective.config.resolve())
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(importlib.resources.files("qa_review.ui") / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    if sso_config is not None:
        cmd += ["--secrets.files", str(Path(sso_config).resolve())]
    click.echo(f"qa-review app: http://{host}:{port}", err=True)
    sys.stderr.flush()
    # Become Streamlit rather than wait for it: a signal to `serve` (Ctrl-C,
    # systemd, a test's terminate()) then stops the app itself.
    os.execve(sys.executable, cmd, env)

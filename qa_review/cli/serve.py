"""serve: run the web app."""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import click

from qa_review.cli.base import Ctx, cli


@cli.command()
@click.option("--port", default=8501, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def serve(obj: Ctx, port, host):
    """Start the web app (Streamlit) on this database.

    \b
    qa-review serve --port 8501
    """
    obj.db.close()  # a missing, foreign or unwritable database is said here, not in the browser
    env = {**os.environ, "QA_REVIEW_DB": str(Path(obj.settings.db_path).resolve())}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(importlib.resources.files("qa_review.ui") / "app.py"),
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
    click.echo(f"qa-review app: http://{host}:{port}", err=True)
    sys.stderr.flush()
    # Become Streamlit rather than wait for it: a signal to `serve` (Ctrl-C,
    # systemd, a test's terminate()) then stops the app itself.
    os.execve(sys.executable, cmd, env)

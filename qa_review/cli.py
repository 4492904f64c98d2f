"""The `qa-review` command: parses arguments, calls the service layer.

Library errors (QAReviewError) become click errors with the message as is;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import click
from tqdm import tqdm

from . import asr_models, services
from .config import REPO_ROOT, from_env, parse_channel_roles, parse_language
from .db import open_db
from .errors import QAReviewError
from .transcribe import AsrOptions, FasterWhisperTranscriber


class _Ctx:
    def __init__(self, db_path: str | None):
        self.settings = from_env()
        if db_path:
            self.settings = self.settings.with_(db_path=Path(db_path))
        self._db = None

    @property
    def db(self):
        if self._db is None:
            self._db = open_db(self.settings.db_path)
        return self._db


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAReviewError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=_Group)
@click.option(
    "--db",
    "db_path",
    envvar="QA_REVIEW_DB",
    default=None,
    help="SQLite database file (default: qa_review.db here; env QA_REVIEW_DB).",
)
@click.version_option(package_name="qa-review")
@click.pass_context
def cli(ctx, db_path):
    """Quality review of contact-center calls, run locally.

    \b
    qa-review models install base
    qa-review ingest recordings/ --manifest recordings/manifest.csv
    qa-review transcribe
    qa-review serve
    """
    ctx.obj = _Ctx(db_path)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--manifest", type=click.Path(path_type=Path), help="CSV: file, call_id, operator, started_at [, direction, phone, queue, tags].")
@click.pass_obj
def ingest(obj: _Ctx, path: Path, manifest: Path | None):
    """Add recordings and written conversations from a file or folder.

    \b
    qa-review ingest calls/ --manifest calls/manifest.csv
    qa-review ingest chats/export.json

    Audio: wav, mp3, ogg/opus, flac, m4a, stereo (operator and client on
    separate channels) or mono. Metadata from the manifest, else a sidecar
    JSON of the same name, else the file name and time. Identical content is
    ingested once; bad inputs are reported and the rest go on. Exits 1 if
    any input failed.
    """
    bar = tqdm(desc="ingest", unit="file", file=sys.stderr, disable=None)

    def progress(msg: str) -> None:
        bar.set_postfix_str(msg[-40:])
        bar.update(1)

    report = services.ingest(obj.db, path, obj.settings, manifest=manifest, progress=progress)
    bar.close()
    for where, existing in report.duplicates:
        click.echo(f"skipped (already ingested as {existing}): {where}")
    for where, reason in report.errors:
        click.echo(f"FAILED {reason}", err=True)
    click.echo(f"ingest: {report.summary()}")
    if report.errors:
        sys.exit(1)


@cli.command()
@click.option("--model", default=None, help="Registry name (base), faster-whisper name, or model folder (env QA_REVIEW_MODEL).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16), help="Calls transcribed at once; the CPU cores are shared between them.")
@click.option("--language", default=None, help="Language code, or 'auto' to detect (env QA_REVIEW_LANGUAGE; default ru).")
@click.option("--channels", default=None, help="Stereo roles, left first: 'operator,client' (default) or 'client,operator' (env QA_REVIEW_CHANNELS).")
@click.option("--call", "call_ids", multiple=True, help="Only this call (repeatable).")
@click.pass_obj
def transcribe(obj: _Ctx, model, workers, language, channels, call_ids):
    """Transcribe every call that has no transcript yet.

    \b
    qa-review transcribe
    qa-review transcribe --model /srv/models/whisper-small --workers 2

    Safe to interrupt: each call is saved whole, and a rerun continues with
    the calls not yet done. Failed calls are retried on the next run.
    Exits 1 if any call failed.
    """
    s = obj.settings
    if language is not None:
        s = replace(s, language=parse_language(language))
    if channels:
        s = s.with_(channel_roles=parse_channel_roles(channels))
    spec = model or s.model
    path = asr_models.resolve(spec, s.models_dir)

    def make():
        click.echo(f"loading model {spec} ({path})", err=True)
        return FasterWhisperTranscriber(
            path, options=AsrOptions(language=s.language), workers=workers, model_name=spec
        )

    bar = None

    def progress(done: int, total: int, call_id: str, error: str | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="transcribe", unit="call", file=sys.stderr, disable=None)
        bar.set_postfix_str(call_id[-30:])
        bar.update(1)
        if error:
            tqdm.write(f"FAILED {error}", file=sys.stderr)

    report = services.transcribe_pending(
        obj.db, s, make, call_ids=list(call_ids) or None, progress=progress, workers=workers
    )
    if bar:
        bar.close()
    click.echo(f"transcribe: {report.summary()}")
    if report.failed:
        sys.exit(1)


@cli.command("calls")
@click.option("--status", type=click.Choice(["ingested", "transcribed", "failed"]))
@click.pass_obj
def calls_cmd(obj: _Ctx, status):
    """List calls with their status.

    \b
    qa-review calls --status failed
    """
    rows = services.list_calls(obj.db, status=status)
    for c in rows:
        dur = f"{c['duration_s']:6.1f}s" if c["duration_s"] else "      -"
        line = f"{c['call_id']:<28} {c['started_at'][:16]:<16} {c['channel']:<9} {c['operator']:<16} {dur} {c['status']}"
        if c["error"]:
            line += f"  ({c['error']})"
        click.echo(line)
    click.echo(f"{len(rows)} call(s)")


@cli.group()
def models():
    """List and install ASR models.

    \b
    qa-review models list
    qa-review models install base
    """


@models.command("list")
@click.pass_obj
def models_list(obj: _Ctx):
    """Registry models and whether they are installed.

    \b
    qa-review models list
    """
    for m in asr_models.list_models(obj.settings.models_dir):
        state = f"installed in {m['path']}" if m["installed"] else "not installed"
        click.echo(f"{m['name']:<8} {state} - {m['description']}")
    click.echo("also accepted: faster-whisper names (" + ", ".join(asr_models.faster_whisper_names()) + ") and model folder paths")


@models.command("install")
@click.argument("name")
@click.option("--force", is_flag=True, help="Reinstall even if present.")
@click.pass_obj
def models_install(obj: _Ctx, name, force):
    """Install a registry model into models/NAME, checking its sha256.

    \b
    qa-review models install base
    """
    asr_models.install(name, obj.settings.models_dir, force=force, say=lambda m: click.echo(m, err=True))


@cli.group()
def export():
    """Export data for other tools.

    \b
    qa-review export transcripts --format csv > transcripts.csv
    """


@export.command("transcripts")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--call", "call_id", default=None, help="Only this call.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@click.pass_obj
def export_transcripts(obj: _Ctx, fmt, call_id, output):
    """Transcripts with call metadata: one row per segment (CSV), or words too (JSON).

    \b
    qa-review export transcripts --format json --call demo-01-booking
    """
    text = services.export_transcripts(obj.db, fmt, call_id)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.option("--port", default=8501, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def serve(obj: _Ctx, port, host):
    """Start the web app (Streamlit) on this database.

    \b
    qa-review serve --port 8501
    """
    env = {**os.environ, "QA_REVIEW_DB": str(Path(obj.settings.db_path).resolve())}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"),
        "--server.port", str(port), "--server.address", host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]
    click.echo(f"qa-review app: http://{host}:{port}", err=True)
    sys.exit(subprocess.call(cmd, env=env))


def main() -> None:
    cli(prog_name="qa-review")

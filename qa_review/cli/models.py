"""ASR models and the recognizer's accuracy: models list|install, asr evaluate|tune."""

from __future__ import annotations

from pathlib import Path

import click

from qa_review.asr import models as asr_models
from qa_review.asr.engines import check_loads, make_transcriber
from qa_review.cli.base import SYSTEM, Ctx, cli, print_table, ticker
from qa_review.services import (
    asr_feedback,
    transcription,
)


@cli.group()
def models():
    """List and install ASR models.

    \b
    qa-review models list
    qa-review models install base
    """


@models.command("list")
@click.pass_obj
def models_list(obj: Ctx):
    """Registry models and whether they are installed.

    \b
    qa-review models list
    """
    for m in asr_models.list_models(obj.settings.models_dir):
        state = f"installed in {m['path']}" if m["installed"] else "not installed"
        click.echo(f"{m['name']:<8} {state} - {m['description']}")
    click.echo(
        "also accepted: faster-whisper names ("
        + ", ".join(asr_models.faster_whisper_names())
        + ") and model folder paths"
    )


@models.command("install")
@click.argument("name")
@click.option(
    "--from",
    "source",
    default=None,
    type=click.Path(path_type=Path),
    help="A model folder of your own: CTranslate2 Whisper, or ONNX (with --type).",
)
@click.option(
    "--type",
    "model_type",
    default=None,
    help="For an ONNX folder: onnx-asr's model type (gigaam-v3-ctc, t-one-ctc, nemo-conformer-ctc...).",
)
@click.option("--force", is_flag=True, help="Reinstall even if present.")
@click.pass_obj
def models_install(obj: Ctx, name, source, model_type, force):
    """Install a registry model into models/NAME (sha256 checked), or your own folder.

    \b
    qa-review models install base
    qa-review models install large-v3-turbo --from /srv/whisper-large-v3-turbo-ct2
    qa-review models install gigaam --from /srv/gigaam-v3-onnx --type gigaam-v3-ctc

    A folder of your own is checked (complete, loads) and copied into
    models/NAME, registered in models/local.yaml (not tracked by git).
    """
    say = lambda m: click.echo(m, err=True)  # noqa: E731
    if source is None:
        asr_models.install(name, obj.settings.models_dir, force=force, say=say)
        return
    asr_models.install_from(
        name, source, obj.settings.models_dir, check=check_loads, model_type=model_type, force=force, say=say
    )


@cli.group()
def asr():
    """Measure and tune transcription on this clinic's own calls.

    \b
    qa-review asr evaluate --since 2026-11-01
    qa-review asr tune            # writes asr-profile.candidate.yaml
    qa-review asr tune --apply    # and makes it the active profile
    """


@asr.command("evaluate")
@click.option("--since", default=None, help="Only calls from this date on (YYYY-MM-DD, the clinic's clock).")
@click.pass_obj
def asr_evaluate(obj: Ctx, since):
    """WER of the recognizer on the calls reviewers corrected.

    \b
    qa-review asr evaluate
    qa-review asr evaluate --since 2026-11-01

    Corrected lines, untouched lines of the same calls and lines reviewers
    added (speech the recognizer missed) are the reference.
    """
    tables = asr_feedback.asr_evaluate(obj.db, SYSTEM, since)
    if not tables["speaker"]:
        click.echo("no corrected calls yet: correct transcripts on the call page, then run this again")
        return
    for by, title in (("speaker", "speaker"), ("operator", "operator"), ("queue", "queue"), ("model", "model")):
        print_table(title, tables[by])


@asr.command("tune")
@click.option("--since", default=None, help="Only calls from this date on (YYYY-MM-DD).")
@click.option(
    "--max-calls",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="The most recent corrected calls to try each profile on.",
)
@click.option(
    "--apply", "apply_", is_flag=True, help="Make the best profile the active one (the old one is kept as .bak)."
)
@click.pass_obj
def asr_tune(obj: Ctx, since, max_calls, apply_):
    """Try a small grid of ASR profiles on corrected calls; keep the best.

    \b
    qa-review asr tune
    qa-review asr tune --max-calls 20 --apply

    Each profile transcribes the corrected calls' audio again and is measured
    against the reviewers' text; the best is written beside the active
    profile as *.candidate.yaml with its WER and the current one's.
    """
    setup = transcription.asr_setup(obj.settings)
    tr = make_transcriber(setup.model_path, setup.options, model_name=setup.model)
    with ticker("asr tune", "call") as tick:
        report = asr_feedback.asr_tune(
            obj.db, SYSTEM, obj.settings, tr, since=since, max_calls=max_calls, apply=apply_, progress=tick
        )
    click.echo(f"{report.calls} corrected call(s), {report.words} reference words")
    click.echo(f"{'profile':<20} {'WER':>7}  by speaker")
    for r in sorted(report.results, key=lambda r: r.wer):
        speakers = ", ".join(f"{sp} {w:.3f}" for sp, w in sorted(r.by_speaker.items()))
        click.echo(f"{r.name:<20} {r.wer:>7.3f}  {speakers}")
    best, cur = report.best, report.current
    click.echo(f"best: {best.name} (WER {best.wer:.3f}, current {cur.wer:.3f}); candidate: {report.candidate}")
    if report.applied:
        click.echo(f"applied: {obj.settings.asr_profile} now holds '{best.name}'")
    elif apply_:
        click.echo("the current profile is already the best; nothing changed")

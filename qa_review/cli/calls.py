"""Calls: ingest, transcribe, watch, list, score, show."""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import replace
from pathlib import Path

import click
from tqdm import tqdm

from qa_review.asr.engines import make_transcriber
from qa_review.asr.jobs import SiteModel
from qa_review.cli.base import SYSTEM, Ctx, cli, conclude, ticker
from qa_review.services import (
    cluster,
    intake,
    scoring,
    transcription,
    workflow,
)
from qa_review.services.settings import parse_option


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: file, call_id, operator, started_at [, direction, phone, queue, tags].",
)
@click.option(
    "--score/--no-score",
    "then_score",
    default=True,
    show_default=True,
    help="Score the written conversations just added (recordings are scored after transcription).",
)
@click.pass_obj
def ingest(obj: Ctx, path: Path, manifest: Path | None, then_score: bool):
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
    with ticker("ingest", "file") as tick:
        report, scored = workflow.ingest_then_score(
            obj.open(create=True), SYSTEM, path, obj.settings, manifest=manifest, progress=tick, score=then_score
        )
    for where, existing in report.duplicates:
        click.echo(f"skipped (already ingested as {existing}): {where}")
    for where in report.unlisted:
        click.echo(f"not in the manifest, not ingested: {where}", err=True)
    score_failures = []
    if scored:
        say_unmatched(scored)
        click.echo(f"score: {scored.summary()}")
        score_failures = scored.failed
    conclude("ingest", report.summary(), report.errors + score_failures)


@cli.command()
@click.option(
    "--model", default=None, help="Registry name (base), faster-whisper name, or model folder (env QA_REVIEW_MODEL)."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Calls transcribed at once; the CPU cores are shared between them.",
)
@click.option(
    "--language", default=None, help="Language code, or 'auto' to detect (env QA_REVIEW_LANGUAGE; default ru)."
)
@click.option(
    "--channels",
    default=None,
    help="Stereo roles, left first: 'operator,client' (default) or 'client,operator' (env QA_REVIEW_CHANNELS).",
)
@click.option("--call", "call_ids", multiple=True, help="Only this call (repeatable).")
@click.option(
    "--score/--no-score",
    "then_score",
    default=True,
    show_default=True,
    help="Then score every transcribed call that lacks a scorecard of a checklist that applies.",
)
@click.option(
    "--scheduler",
    default=None,
    help="A Dask scheduler (tcp://SERVER:8786, tls://...): the calls go to its workers (env QA_REVIEW_SCHEDULER).",
)
@click.option(
    "--shared-storage",
    is_flag=True,
    help="The workers see the recordings at the same paths: send paths, not the audio.",
)
@click.option("--tls-ca", type=click.Path(exists=True, dir_okay=False), help="With tls://: the CA certificate.")
@click.option(
    "--tls-cert", type=click.Path(exists=True, dir_okay=False), help="With tls://: this client's certificate."
)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="With tls://: this client's key.")
@click.pass_obj
def transcribe(
    obj: Ctx,
    model,
    workers,
    language,
    channels,
    call_ids,
    then_score,
    scheduler,
    shared_storage,
    tls_ca,
    tls_cert,
    tls_key,
):
    """Transcribe every call that has no transcript yet.

    \b
    qa-review transcribe
    qa-review transcribe --model /srv/models/whisper-small --workers 2

    Safe to interrupt: each call is saved whole, and a rerun continues with
    the calls not yet done. Failed calls are retried on the next run. Runs
    on one database share the work: each call is leased to one run, and the
    calls of a run that was killed are taken again a minute later. Each call
    is scored as soon as its transcript is saved, and at the end every other
    transcribed call without its scorecards (--no-score to skip both). Exits
    1 if any call failed.
    """
    s = obj.settings
    if language is not None:
        s = replace(s, language=parse_option("language", language, "--language"))
    if channels:
        s = s.with_(channel_roles=parse_option("channels", channels, "--channels"))
    scheduler = scheduler or s.scheduler
    if scheduler:
        # each worker loads the model from its own models folder, with this site's options
        setup = transcription.asr_setup(s, model=model, resolve_model=False)
        make = SiteModel(setup.model, setup.options)
        click.echo(f"sending the calls to the Dask cluster at {scheduler} (model {setup.model})", err=True)
    else:
        setup = transcription.asr_setup(s, model=model)

        def make():
            click.echo(f"loading model {setup.model} ({setup.model_path})", err=True)
            return make_transcriber(setup.model_path, setup.options, workers=workers, model_name=setup.model)

    bar = None

    def progress(done: int, total: int, call_id: str, error: str | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="transcribe", unit="call", file=sys.stderr, disable=None)
        bar.set_postfix_str(call_id[-30:])
        bar.update(1)
        if error:
            tqdm.write(f"FAILED {error}", file=sys.stderr)

    report, scored = workflow.transcribe_then_score(
        obj.db,
        SYSTEM,
        s,
        make,
        call_ids=list(call_ids) or None,
        progress=progress,
        workers=workers,
        profile=setup.profile,
        score=then_score,
        scheduler=scheduler,
        security=cluster.security(scheduler, tls_ca, tls_cert, tls_key),
        shared_storage=shared_storage,
    )
    if bar:
        bar.close()
    click.echo(f"transcribe: {report.summary()}")
    if scored:
        say_unmatched(scored)
        click.echo(f"score: {scored.summary()}")
        for _, reason in scored.failed:
            click.echo(f"FAILED {reason}", err=True)
    if report.failed or (scored and scored.failed):
        sys.exit(1)


@cli.command("calls")
@click.option("--status", type=click.Choice(["ingested", "transcribed", "failed"]))
@click.pass_obj
def calls_cmd(obj: Ctx, status):
    """List calls with their status.

    \b
    qa-review calls --status failed
    """
    rows = transcription.list_calls(obj.db, SYSTEM, status=status)
    for c in rows:
        dur = f"{c['duration_s']:6.1f}s" if c["duration_s"] else "      -"
        line = (
            f"{c['call_id']:<28} {c['started_at'][:16]:<16} {c['channel']:<9} {c['operator']:<16} {dur} {c['status']}"
        )
        if c["error"]:
            line += f"  ({c['error']})"
        click.echo(line)
    click.echo(f"{len(rows)} call(s)")


@cli.command()
@click.option(
    "--checklist",
    "checklist_spec",
    default=None,
    help="Checklist id (in the checklists folder, env QA_REVIEW_CHECKLISTS) or a YAML file. "
    "Default: every checklist that applies to each call.",
)
@click.option("--call", "call_ids", multiple=True, help="Only this call (repeatable).")
@click.option("--all", "all_calls", is_flag=True, help="Every transcribed call (the default when no --call is given).")
@click.option(
    "--rescore",
    is_flag=True,
    help="Score again calls already scored with the same checklist version (automatic scorecards only).",
)
@click.pass_obj
def score(obj: Ctx, checklist_spec, call_ids, all_calls, rescore):
    """Score transcribed calls against checklists, with evidence for every verdict.

    \b
    qa-review score
    qa-review score --checklist clinic-inbound --call demo-01-booking
    qa-review score --checklist my-draft.yaml --all

    Idempotent: a call already scored with a checklist version is skipped.
    A call that cannot be scored is reported and the rest go on (exit 1).
    """
    if all_calls and call_ids:
        raise click.UsageError("give --call or --all, not both")
    with ticker("score", "call") as tick:
        report = scoring.score_calls(
            obj.db,
            SYSTEM,
            obj.settings,
            checklist=checklist_spec,
            call_ids=list(call_ids) or None,
            rescore=rescore,
            progress=tick,
        )
    for cid, checklist_id, value in report.scored:
        click.echo(f"{cid:<28} {checklist_id:<24} {'-' if value is None else f'{value:5.1f}'}")
    say_unmatched(report)
    conclude("score", report.summary(), report.failed)


def say_unmatched(report: scoring.ScoreReport, shown: int = 20) -> None:
    """Each call no checklist applies to, so none is left out of review and KPIs without a word."""
    for cid in report.unmatched[:shown]:
        click.echo(f"no checklist applies: {cid}", err=True)
    if len(report.unmatched) > shown:
        click.echo(f"no checklist applies: ... and {len(report.unmatched) - shown} more", err=True)


@cli.command()
@click.argument("call_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def show(obj: Ctx, call_id, as_json):
    """A call's metadata, transcript and scorecards with evidence.

    \b
    qa-review show demo-01-booking
    qa-review show demo-01-booking --json
    """
    detail = transcription.call_detail(obj.db, SYSTEM, call_id)
    cards = scoring.scorecards(obj.db, SYSTEM, call_id)
    call, t = detail["call"], detail["transcript"]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "call": call,
                    "segments": [s.to_dict() for s in t.segments] if t else None,
                    "coverage": {
                        c.speaker: {"speech_s": c.speech_s, "covered_s": c.covered_s, "restored_s": c.restored_s}
                        for c in t.coverage
                    }
                    if t
                    else None,
                    "unheard": [[u.speaker, u.start, u.end] for u in t.unheard] if t else None,
                    "flags": (detail["asr"] or {}).get("flags", []),
                    "scorecards": [
                        {
                            **{k: row[k] for k in ("checklist_id", "checklist_version", "status", "revision")},
                            "score": sc.score,
                            "provisional": sc.provisional,
                            "critical_failed": sc.critical_failed,
                            "passed": sc.passed,
                            "items": [
                                {
                                    **{
                                        k: getattr(i, k)
                                        for k in (
                                            "section_id",
                                            "item_id",
                                            "title",
                                            "kind",
                                            "weight",
                                            "critical",
                                            "verdict",
                                        )
                                    },
                                    "evidence": [e.to_dict() for e in i.evidence],
                                }
                                for i in sc.items
                            ],
                        }
                        for row, sc in cards
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    click.echo(
        f"{call['call_id']}  {call['operator']}  {call['started_at']}  {call['channel']}"
        f"  {call['direction'] or ''}  {call['status']}"
    )
    if t:
        for s in t.segments:
            click.echo(f"  {s.start:7.1f}  {s.speaker:<8} {s.text}")
        if t.coverage:
            click.echo(
                "  speech recognized: "
                + ", ".join(
                    f"{c.speaker} {c.coverage:.0%} of {c.speech_s:.0f} s"
                    + (f" ({c.restored_s:.1f} s by the guard)" if c.restored_s else "")
                    for c in t.coverage
                )
            )
        for u in t.unheard:
            click.echo(f"  UNHEARD  {u.speaker} {u.start:.1f}-{u.end:.1f} s: speech with no recognized word")
        for f in (detail["asr"] or {}).get("flags", []):
            click.echo(f"  FLAG     {f['code']}: {f['detail']}")
    for _row, sc in cards:
        flags = [f for f, on in (("provisional", sc.provisional), ("CRITICAL FAIL", sc.critical_failed)) if on]
        value = "-" if sc.score is None else f"{sc.score:.1f}"
        click.echo(f"\n{sc.checklist_id} v{sc.checklist_version}: {value}  {' '.join(flags)}")
        for i in sc.items:
            click.echo(f"  {i.verdict.upper():<6} {i.item_id:<26} {i.evidence[0].text if i.evidence else ''}")


# The CLI is the server administrator's tool: whoever can run it can open the
# database file, so it acts with admin rights. The app enforces roles per login.


@cli.command("watch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--once", is_flag=True, help="One round and exit (for cron): files written in the last --settle seconds wait."
)
@click.option(
    "--interval", default=30.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds between rounds."
)
@click.option(
    "--settle",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="A file is complete once unchanged this long.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Calls transcribed at once.")
@click.option(
    "--manifest-pattern",
    default=None,
    metavar="GLOB",
    help="File names of the PBX's CSV manifests in FOLDER (e.g. 'calls-*.csv'): recordings go in with their row.",
)
@click.option(
    "--manifest-wait",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="With --manifest-pattern: seconds a recording no manifest lists waits for one, then goes in on its own.",
)
@click.pass_obj
def watch(obj: Ctx, folder: Path, once, interval, settle, workers, manifest_pattern, manifest_wait):
    """Ingest, transcribe and score new files in FOLDER as they arrive; runs until stopped.

    \b
    qa-review watch /mnt/pbx/recordings
    qa-review watch /mnt/pbx/recordings --once      # from cron, e.g. every 5 minutes
    qa-review watch /mnt/pbx --manifest-pattern 'calls-*.csv'

    Recordings (with their sidecar JSON), conversations and call transcripts
    are taken once complete (unchanged for --settle seconds). A bad file is
    reported once and not tried again until it changes; the rest go on.
    Safe to stop (Ctrl-C, systemctl stop) and start again: nothing is
    ingested twice, and what was left untranscribed is taken first. Uses the
    scheduler setting when set (Dask).

    With --manifest-pattern, the manifests (the columns of `ingest
    --manifest`) give each recording its operator, time and direction; a
    manifest is read again when it changes, and a recording none lists waits
    --manifest-wait seconds for one.
    """
    s = obj.settings
    setup = transcription.asr_setup(s, resolve_model=not s.scheduler)
    if s.scheduler:
        make = SiteModel(setup.model, setup.options)
    else:

        def make():
            click.echo(f"loading model {setup.model} ({setup.model_path})", err=True)
            return make_transcriber(setup.model_path, setup.options, workers=workers, model_name=setup.model)

    job = intake.Intake(
        obj.open(create=True),
        SYSTEM,
        s,
        folder,
        make,
        settle_s=settle,
        workers=workers,
        scheduler=s.scheduler,
        profile=setup.profile,
        manifest_pattern=manifest_pattern,
        manifest_wait_s=manifest_wait,
    )

    def say(r: intake.Round) -> None:
        for _, why in r.failed + r.transcription_failed:
            click.echo(f"FAILED {why}", err=True)
        if r.ingested or r.failed or r.transcribed or r.transcription_failed or once:
            click.echo(f"watch: {r.summary()}")

    if once:
        r = job.round()
        say(r)
        sys.exit(1 if r.failed or r.transcription_failed else 0)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"watching {folder} every {interval:g} s (Ctrl-C to stop)", err=True)
    try:
        job.watch(lambda: bool(stopping), interval, say)
    except KeyboardInterrupt:
        pass
    click.echo("watch: stopped", err=True)

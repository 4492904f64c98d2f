"""Use cases: the one layer the CLI and the Streamlit pages both call.

Functions take their dependencies (database, settings, a transcriber
factory) as arguments, so tests hand in fakes and in-memory databases.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlite_utils import Database

from qa_review.asr import models as asr_models
from qa_review.asr import profile as asr_profile
from qa_review.asr.profile import AsrProfile
from qa_review.asr.transcribe import AsrOptions, Transcriber, transcribe_call
from qa_review.core.errors import CallNotFound, QAReviewError
from qa_review.core.scoring import Scorecard
from qa_review.services import accounts
from qa_review.services.ingest import IngestReport, Progress
from qa_review.services.ingest import ingest as _ingest
from qa_review.services.settings import Settings
from qa_review.storage import store


def ingest(
    db: Database,
    path: Path,
    settings: Settings,
    *,
    manifest: Path | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    return _ingest(db, Path(path), settings, manifest=manifest, progress=progress)


@dataclass(frozen=True)
class AsrSetup:
    profile: AsrProfile
    options: AsrOptions
    model: str  # what the user named
    model_path: str  # what faster-whisper loads


def asr_setup(settings: Settings, *, model: str | None = None, language: str | None = None) -> AsrSetup:
    """The site's ASR profile with the overrides applied: option > environment > profile file.

    A bad profile or an unknown or missing model fails here, before any call is tried.
    """
    profile = asr_profile.load(settings.asr_profile)
    spec = model or settings.model or profile.model
    options = profile.options(language=language or settings.language)
    return AsrSetup(profile, options, spec, asr_models.resolve(spec, settings.models_dir))


@dataclass
class TranscribeReport:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    audio_s: float = 0.0
    processing_s: float = 0.0

    @property
    def real_time_factor(self) -> float:
        return self.processing_s / self.audio_s if self.audio_s else 0.0

    def summary(self) -> str:
        return (
            f"{len(self.done)} transcribed, {len(self.failed)} failed; "
            f"{self.audio_s / 60:.1f} min of audio in {self.processing_s:.0f} s "
            f"(real-time factor {self.real_time_factor:.2f})"
        )


TranscribeProgress = Callable[[int, int, str, str | None], None]  # done, total, call, error


def transcribe_pending(
    db: Database,
    settings: Settings,
    make_transcriber: Callable[[], Transcriber],
    *,
    call_ids: list[str] | None = None,
    progress: TranscribeProgress | None = None,
    workers: int = 1,
    profile: AsrProfile | None = None,
) -> TranscribeReport:
    """Transcribe every audio call without a transcript (or those in ``call_ids``).

    Workers transcribe in threads (CTranslate2 releases the GIL); only this
    thread writes, one whole transcript per transaction, so an interrupted
    batch resumes where it stopped.
    """
    calls = store.calls_to_transcribe(db)
    if call_ids is not None:
        wanted = set(call_ids)
        calls = [c for c in calls if c["call_id"] in wanted]
    report = TranscribeReport()
    if not calls:
        return report
    transcriber = make_transcriber()
    started = time.perf_counter()
    profile = profile or asr_profile.load(settings.asr_profile)
    names = accounts.spoken_names(db)

    def work(call: dict):
        t0 = time.perf_counter()
        tr = transcribe_call(
            call["call_id"],
            Path(call["source_path"]),
            transcriber,
            settings.channel_roles,
            hotwords=profile.hotwords(names.get(call["operator"])),
        )
        return tr, time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(work, c): c for c in calls}
        for n, fut in enumerate(as_completed(futures), 1):
            call = futures[fut]
            cid = call["call_id"]
            try:
                transcript, took = fut.result()
            except Exception as e:  # one call's failure must not stop the batch
                reason = str(e) if isinstance(e, QAReviewError) else f"call {cid}: {e!r}"
                store.mark_failed(db, cid, reason)
                report.failed.append((cid, reason))
                if progress:
                    progress(n, len(calls), cid, reason)
                continue
            store.save_transcript(
                db,
                transcript,
                model=transcriber.model_name,
                settings=transcriber.options.to_dict(),
                processing_s=round(took, 3),
            )
            report.done.append(cid)
            report.audio_s += transcript.duration_s
            if progress:
                progress(n, len(calls), cid, None)
    report.processing_s = time.perf_counter() - started
    return report


def list_calls(db: Database, *, status: str | None = None) -> list[dict]:
    return store.list_calls(db, status=status)


def call_detail(db: Database, call_id: str) -> dict:
    """A call with its transcript (None until transcribed) and ASR facts."""
    call = store.get_call(db, call_id)
    return {
        "call": call,
        "transcript": store.get_transcript(db, call_id),
        "asr": store.transcript_info(db, call_id),
    }


META_COLUMNS = ("call_id", "channel", "operator", "started_at", "direction", "phone", "queue", "tags")
SEGMENT_COLUMNS = ("segment", "speaker", "start", "end", "text")


def export_transcripts(db: Database, fmt: str = "json", call_id: str | None = None, redact: bool = False) -> str:
    """Transcripts with metadata; ``redact`` masks personal data (and the client's phone)."""
    from qa_review.core.redaction import redact as mask
    from qa_review.core.redaction import redact_words

    if fmt not in ("json", "csv"):
        raise QAReviewError(f"unknown export format {fmt!r}; use json or csv")
    if call_id is not None:
        store.get_call(db, call_id)  # CallNotFound names the id
        ids = [call_id]
    else:
        ids = [c["call_id"] for c in store.list_calls(db, status=store.TRANSCRIBED)]
    items = []
    for cid in sorted(ids):
        detail = call_detail(db, cid)
        t = detail["transcript"]
        if t is None:
            raise CallNotFound(f"call {cid!r} has no transcript yet; run `qa-review transcribe`")
        meta = {k: detail["call"][k] for k in META_COLUMNS}
        meta["duration_s"] = t.duration_s
        if redact:
            meta["phone"] = "[телефон]" if meta["phone"] else None
            t = replace(
                t,
                segments=tuple(
                    replace(
                        s,
                        text=mask(s.text),
                        words=tuple(
                            replace(w, text=m) for w, m in zip(s.words, redact_words([w.text for w in s.words]))
                        ),
                    )
                    for s in t.segments
                ),
            )
        meta["model"] = (detail["asr"] or {}).get("model") or None
        items.append((meta, t))
    if fmt == "json":
        return json.dumps(
            [{**meta, "segments": [s.to_dict() for s in t.segments]} for meta, t in items],
            ensure_ascii=False,
            indent=1,
        )
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(META_COLUMNS + SEGMENT_COLUMNS)
    for meta, t in items:
        base = [";".join(meta[k]) if k == "tags" else meta[k] for k in META_COLUMNS]
        for i, s in enumerate(t.segments):
            w.writerow(base + [i, s.speaker, f"{s.start:.2f}", f"{s.end:.2f}", s.text])
    return buf.getvalue()


# --- scoring -----------------------------------------------------------------


@dataclass
class ScoreReport:
    scored: list[tuple[str, str, float | None]] = field(default_factory=list)  # call, checklist, score
    skipped: list[tuple[str, str]] = field(default_factory=list)  # already scored with that version
    failed: list[tuple[str, str]] = field(default_factory=list)  # where, reason
    unmatched: list[str] = field(default_factory=list)  # calls no checklist applies to

    def summary(self) -> str:
        text = (
            f"{len(self.scored)} scored, {len(self.skipped)} already scored, "
            f"{len(self.failed)} failed, {len(self.unmatched)} with no applicable checklist"
        )
        if self.unmatched:
            text += (
                " (no checklist's applies_to fits their channel and direction: set direction in "
                "the manifest, or pass --checklist ID)"
            )
        return text


def score_calls(
    db: Database,
    settings: Settings,
    *,
    checklist: str | None = None,
    call_ids: list[str] | None = None,
    rescore: bool = False,
    progress: Progress | None = None,
) -> ScoreReport:
    """Score transcribed calls against checklists; idempotent.

    With ``checklist`` (an id in the checklists folder, or a YAML path) every
    chosen call gets that checklist; without it each call gets the folder's
    checklists whose ``applies_to`` fits its channel and direction. A call
    already scored with a checklist version is skipped unless ``rescore``.
    """
    from qa_review.core.checklists import find, load_dir
    from qa_review.core.scoring import score as score_transcript

    report = ScoreReport()
    if checklist:
        loaded = [find(checklist, settings.checklists_dir)]
    else:
        loaded, bad = load_dir(settings.checklists_dir)
        report.failed.extend((msg.split(":", 1)[0], msg) for msg in bad)
    usable = []
    for lc in loaded:
        try:
            store.record_checklist(db, lc)
            usable.append(lc)
        except QAReviewError as e:
            report.failed.append((lc.source, str(e)))

    if call_ids:
        calls = []
        for cid in call_ids:
            call = store.get_call(db, cid)
            if call["status"] != store.TRANSCRIBED:
                report.failed.append(
                    (cid, f"call {cid}: not transcribed yet (status {call['status']}); run `qa-review transcribe`")
                )
            else:
                calls.append(call)
    else:
        calls = store.list_calls(db, status=store.TRANSCRIBED)

    profile = asr_profile.load(settings.asr_profile)
    names = accounts.spoken_names(db)
    for n, call in enumerate(calls, 1):
        cid = call["call_id"]
        if progress:
            progress(f"[{n}/{len(calls)}] {cid}")
        chosen = (
            usable if checklist else [lc for lc in usable if lc.checklist.applies(call["channel"], call["direction"])]
        )
        if not chosen:
            report.unmatched.append(cid)
            continue
        transcript = store.get_transcript(db, cid)
        for lc in chosen:
            c = lc.checklist
            existing = store.scorecard_row(db, cid, c.id, c.version)
            if existing and (not rescore or existing["status"] != store.AUTO):
                report.skipped.append((cid, c.id))
                continue
            try:
                sc = score_transcript(
                    transcript,
                    c,
                    written=call["kind"] == "written",
                    variables=profile.variables(names.get(call["operator"])),
                )
            except Exception as e:  # one call's failure must not stop the batch
                report.failed.append((cid, f"call {cid}, checklist {c.id}: {e!r}"))
                continue
            store.save_scorecard(db, sc)
            report.scored.append((cid, c.id, sc.score))
    return report


def scorecards(db: Database, call_id: str) -> list[tuple[dict, Scorecard]]:
    store.get_call(db, call_id)
    return store.scorecards_for_call(db, call_id)


SCORE_COLUMNS = (
    "call_id",
    "operator",
    "started_at",
    "channel",
    "direction",
    "checklist_id",
    "checklist_version",
    "score",
    "provisional",
    "critical_failed",
    "passed",
    "status",
    "section_id",
    "item_id",
    "item_title",
    "kind",
    "weight",
    "critical",
    "verdict",
    "evidence",
    "evidence_speaker",
    "evidence_start",
    "evidence_end",
    "evidence_words",
)


def export_scores(db: Database, fmt: str = "csv") -> str:
    """One row per call × checklist item; stable column names (SCORE_COLUMNS)."""
    if fmt not in ("json", "csv"):
        raise QAReviewError(f"unknown export format {fmt!r}; use json or csv")
    rows = []
    for r in store.score_rows(db):
        ev = json.loads(r.pop("evidence") or "[]")
        first = next((e for e in ev if "start" in e), {})
        rows.append(
            {
                **r,
                "evidence": " | ".join(e["text"] for e in ev),
                "evidence_speaker": first.get("speaker"),
                "evidence_start": first.get("start"),
                "evidence_end": first.get("end"),
                "evidence_words": first.get("words"),
                "evidence_items": ev,
            }
        )
    if fmt == "json":
        return json.dumps(
            [{**{k: r[k] for k in SCORE_COLUMNS}, "evidence": r["evidence_items"]} for r in rows],
            ensure_ascii=False,
            indent=1,
        )
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SCORE_COLUMNS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def checklists(settings: Settings):
    """Valid checklists in the folder, and the errors of invalid files."""
    from qa_review.core.checklists import load_dir

    return load_dir(settings.checklists_dir)


# --- ASR accuracy from reviewers' corrections ------------------------------------------


def asr_evaluate(db: Database, since: str | None = None) -> dict[str, list[dict]]:
    """WER of the recognizer on the calls reviewers corrected, by speaker, operator and queue.

    Each table's rows: {key, calls, lines, words, wer}. Lines a reviewer
    added count as words the recognizer missed.
    """
    from qa_review.core.wer import corpus_wer

    lines = store.reviewed_lines(db, since)
    out: dict[str, list[dict]] = {}
    for by in ("speaker", "operator", "queue", "model"):
        groups: dict[str, list[dict]] = {}
        for r in lines:
            groups.setdefault(r[by] or "-", []).append(r)
        rows = []
        for key, grp in sorted(groups.items()):
            total = corpus_wer((r["text"], r["asr_text"]) for r in grp)
            rows.append(
                {
                    "key": key,
                    "calls": len({r["call_id"] for r in grp}),
                    "lines": total.lines,
                    "words": total.words,
                    "wer": None if total.wer is None else round(total.wer, 3),
                }
            )
        out[by] = rows
    return out


@dataclass
class TuneResult:
    name: str
    profile: AsrProfile
    errors: int
    words: int
    by_speaker: dict[str, float]

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else 0.0


@dataclass
class TuneReport:
    calls: int
    words: int
    results: list[TuneResult]
    candidate: Path | None = None
    applied: bool = False

    @property
    def best(self) -> TuneResult:
        return min(self.results, key=lambda r: (round(r.wer, 4), r.name != "current"))

    @property
    def current(self) -> TuneResult:
        return next(r for r in self.results if r.name == "current")


def tune_grid(profile: AsrProfile) -> dict[str, AsrProfile]:
    """A small grid around the site's profile: the VAD, the guard, the vocabulary."""

    def with_(**parts):
        return profile.model_copy(update=parts)

    vad = profile.vad
    grid = {
        "current": profile,
        "vad-more-sensitive": with_(
            vad=vad.model_copy(
                update={
                    "enabled": True,
                    "threshold": round(max(0.1, vad.threshold - 0.15), 2),
                    "min_silence_ms": min(vad.min_silence_ms, 300),
                }
            )
        ),
        "vad-less-sensitive": with_(
            vad=vad.model_copy(
                update={
                    "enabled": True,
                    "threshold": round(min(0.9, vad.threshold + 0.2), 2),
                    "min_silence_ms": max(vad.min_silence_ms, 2000),
                }
            )
        ),
        "no-vad": with_(vad=vad.model_copy(update={"enabled": False})),
        "guard-on" if not profile.guard.enabled else "guard-off": with_(
            guard=profile.guard.model_copy(update={"enabled": not profile.guard.enabled})
        ),
    }
    v = profile.vocabulary
    if v.use:
        grid["no-vocabulary"] = with_(vocabulary=v.model_copy(update={"use": False}))
    elif v.clinic or v.terms or v.operator_name:
        # off by default (it hurt base on our corpus); a clinic's calls may differ
        grid["vocabulary"] = with_(vocabulary=v.model_copy(update={"use": True}))
    unique: dict[str, AsrProfile] = {}
    for name, p in grid.items():  # a variant equal to one before it is tried once
        if p not in unique.values():
            unique[name] = p
    return unique


def asr_tune(
    db: Database,
    settings: Settings,
    transcriber: Transcriber,
    *,
    since: str | None = None,
    max_calls: int = 50,
    apply: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TuneReport:
    """Try the grid on the audio of reviewer-corrected calls; write the best as a candidate.

    The candidate goes beside the active profile (``*.candidate.yaml``) with
    its measured WER against the current one; ``apply`` makes it active
    (the old profile is kept as ``*.bak``). ``transcriber`` is used with each
    profile's options in turn, so the model is loaded once.
    """
    from qa_review.core.wer import corpus_wer

    current = asr_profile.load(settings.asr_profile)
    names = accounts.spoken_names(db)
    calls: dict[str, list[dict]] = {}
    for r in store.reviewed_lines(db, since):
        if Path(r["source_path"]).exists():
            calls.setdefault(r["call_id"], []).append(r)
    picked = list(calls.items())[-max_calls:]
    if not picked:
        raise QAReviewError(
            "no corrected call with its recording: correct transcripts on the call page "
            "(or add the lines the recognizer missed) and run this again",
            code="tune_no_calls",
        )
    results = []
    for name, profile in tune_grid(current).items():
        transcriber.options = profile.options(language=settings.language)
        pairs: dict[str, list[tuple[str, str]]] = {}  # speaker -> (reference, hypothesis) per call
        for n, (cid, lines) in enumerate(picked, 1):
            if progress:
                progress(f"{name}: [{n}/{len(picked)}] {cid}")
            call = store.get_call(db, cid)
            t = transcribe_call(
                cid,
                Path(call["source_path"]),
                transcriber,
                settings.channel_roles,
                hotwords=profile.hotwords(names.get(call["operator"])),
            )
            for sp in sorted({r["speaker"] for r in lines}):
                ref = " ".join(r["text"] for r in lines if r["speaker"] == sp)
                pairs.setdefault(sp, []).append((ref, t.text_of(sp)))
        per = {sp: corpus_wer(p) for sp, p in pairs.items()}
        results.append(
            TuneResult(
                name,
                profile,
                sum(w.errors for w in per.values()),
                sum(w.words for w in per.values()),
                {sp: round(w.wer, 3) for sp, w in per.items() if w.words},
            )
        )
    report = TuneReport(len(picked), results[0].words, results)
    best, cur = report.best, report.current
    target = Path(settings.asr_profile)
    report.candidate = target.with_name(target.stem + ".candidate.yaml")
    asr_profile.write(
        best.profile,
        report.candidate,
        comment=(
            f"qa-review asr tune: '{best.name}' measured on {report.calls} corrected call(s), "
            f"{report.words} reference words\n"
            f"WER {best.wer:.3f} against {cur.wer:.3f} for the current profile ({target})\n"
            f"apply with: qa-review asr tune --apply (or copy this file to {target})"
        ),
    )
    if apply and best.name != "current":
        if target.exists():
            target.replace(target.with_name(target.name + ".bak"))
        asr_profile.write(
            best.profile,
            target,
            comment=f"applied by qa-review asr tune: {best.name}, WER {best.wer:.3f} (was {cur.wer:.3f})",
        )
        report.applied = True
    return report

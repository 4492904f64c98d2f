"""ASR accuracy from reviewers' corrections, and tuning the site's profile on them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_review.asr import profile as asr_profile
from qa_review.asr.profile import AsrProfile
from qa_review.asr.transcribe import Transcriber, transcribe_call
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, User
from qa_review.core.wer import corpus_wer
from qa_review.services.settings import Settings
from qa_review.storage import Storage


def _admin_only(user: User, what: str) -> None:
    if user.role != ADMIN:
        raise PermissionDenied(f"{user.username} ({user.role}) may not {what}; an admin does")


def asr_evaluate(db: Storage, user: User, since: str | None = None) -> dict[str, list[dict]]:
    """WER of the recognizer on the calls reviewers corrected, by speaker, operator and queue (admins).

    Each table's rows: {key, calls, lines, words, wer}. Lines a reviewer
    added count as words the recognizer missed.
    """
    _admin_only(user, "measure the recognizer on everyone's calls")
    lines = db.transcripts.reviewed_lines(since)
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
    db: Storage,
    user: User,
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
    _admin_only(user, "tune the recognizer on everyone's calls")
    current = asr_profile.load(settings.asr_profile)
    names = db.users.spoken_names()
    calls: dict[str, list[dict]] = {}
    for r in db.transcripts.reviewed_lines(since):
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
            call = db.calls.get(cid)
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

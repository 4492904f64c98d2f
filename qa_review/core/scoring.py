"""Scoring: a transcript and a checklist in, a scorecard out. Pure.

Every verdict carries its evidence: the words found (or the closest miss),
the speaker, the timestamps and the similarity; or the metric value and the
span that decided it. Borderline matches and manual items are left to a
human (``review``), which makes the scorecard provisional.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from qa_review.core import matching, metrics, roles
from qa_review.core.checklists import (
    Checklist,
    Condition,
    ForbiddenCheck,
    Item,
    ManualCheck,
    MetricCheck,
    PhraseCheck,
    resolve,
    variables_in,
)
from qa_review.core.domain import MIXED, Transcript
from qa_review.core.recording_faults import RecordingFault, recording_fault


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"  # not applicable: left out of the score
    REVIEW = "review"  # the machine could not decide: a person must


PASS, FAIL, NA, REVIEW = Verdict
VERDICTS = tuple(Verdict)


@dataclass(frozen=True)
class Evidence:
    kind: str  # found | borderline | missing | metric | note
    text: str  # one line a reviewer reads
    phrase: str | None = None
    words: str | None = None
    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    similarity: float | None = None
    value: float | None = None
    code: str | None = None  # for notes: what kind of note, so a UI can translate it
    metric: str | None = None
    limit: str | None = None  # e.g. "≤ 30" or "≥ 5 ≤ 60"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: dict) -> Evidence:
        return cls(**d)


@dataclass(frozen=True)
class ItemResult:
    section_id: str
    item_id: str
    title: str
    kind: str
    weight: float
    critical: bool
    verdict: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Scorecard:
    call_id: str
    checklist_id: str
    checklist_version: int
    items: tuple[ItemResult, ...]
    score: float | None
    provisional: bool
    critical_failed: bool
    passed: bool | None = None
    pass_mark: float | None = None

    def item(self, item_id: str) -> ItemResult:
        return next(i for i in self.items if i.item_id == item_id)


def total(items, pass_mark: float | None = None) -> tuple[float | None, bool, bool, bool | None]:
    """(score, provisional, critical_failed, passed) for item verdicts.

    Score = 100 × passed weight / weight of applicable, decided items; a failed
    critical item makes it 0. Shared by automatic scoring and human review.
    """
    decided = [i for i in items if i.verdict in (PASS, FAIL)]
    denom = sum(i.weight for i in decided)
    critical = any(i.critical and i.verdict == FAIL for i in items)
    score = round(100 * sum(i.weight for i in decided if i.verdict == PASS) / denom, 1) if denom else None
    if critical:
        score = 0.0
    provisional = any(i.verdict == REVIEW for i in items)
    passed = None if score is None or pass_mark is None else score >= pass_mark
    return score, provisional, critical, passed


@dataclass
class _Context:
    transcript: Transcript
    tokens: list[matching.Token]
    mono: bool
    metrics: dict[str, metrics.MetricValue]
    threshold: float
    review_below: float
    variables: dict[str, str]


# Below this confidence in a mono call's recovered roles, a verdict that
# depends on who said what goes to a person (services pass the site's value).
MIN_ROLE_CONFIDENCE = 0.8


def _context(transcript: Transcript, checklist: Checklist, written: bool, variables: dict[str, str]) -> _Context:
    tokens = matching.tokenize(transcript)
    return _Context(
        transcript=transcript,
        tokens=tokens,
        mono=any(t.speaker == MIXED for t in tokens),
        metrics=metrics.compute(transcript, written),
        threshold=checklist.matching.threshold,
        review_below=checklist.matching.review_below,
        variables=variables,
    )


def score(
    transcript: Transcript,
    checklist: Checklist,
    *,
    written: bool,
    variables: dict[str, str] | None = None,
    min_role_confidence: float = MIN_ROLE_CONFIDENCE,
) -> Scorecard:
    """``variables`` fill the phrases' call variables ({operator_name}, {clinic}).

    A mono call whose roles were recovered with less than
    ``min_role_confidence`` is scored twice, as recovered and with the roles
    swapped: a verdict that differs depends on who said what and goes to a
    person; one that does not (nobody said a forbidden phrase, the silence)
    stands.
    """
    ctx = _context(transcript, checklist, written, dict(variables or {}))
    results = tuple(_item(section.id, item, ctx) for section, item in checklist.items())
    if not roles.roles_certain(transcript, min_role_confidence):
        flipped = _context(roles.rename(transcript, roles.OTHER_SIDE), checklist, written, ctx.variables)
        other = {(s.id, i.id): _item(s.id, i, flipped).verdict for s, i in checklist.items()}
        confidence = transcript.diarization.confidence if transcript.diarization else 0.0
        results = tuple(
            _roles_uncertain(r, confidence)
            if r.verdict != REVIEW and other[(r.section_id, r.item_id)] != r.verdict
            else r
            for r in results
        )
    fault = None if written else recording_fault(transcript)
    if fault is not None:
        results = tuple(_for_a_person(r, fault) for r in results)
    s, provisional, critical, passed = total(results, checklist.pass_mark)
    return Scorecard(
        call_id=transcript.call_id,
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        items=results,
        score=s,
        provisional=provisional,
        critical_failed=critical,
        passed=passed,
        pass_mark=checklist.pass_mark,
    )


def _item(section_id: str, item: Item, ctx: _Context) -> ItemResult:
    check = item.check
    evidence: list[Evidence] = []
    verdict: str
    condition: list[Evidence] = []
    if item.conditions:
        results = [(c, *_phrases(c, ctx)) for c in item.conditions]
        met = [ev for _, state, ev in results if state == "found"]
        if met:
            condition = _label(met[0], "applies because ")
        elif any(state in ("borderline", "unresolved") for _, state, _ in results):
            unsure = [e for _, state, ev in results if state in ("borderline", "unresolved") for e in ev]
            return _result(section_id, item, REVIEW, _label(unsure, "applies because "))
        else:
            notes = [
                Evidence(
                    "note",
                    "not applicable: " + _describe_condition(c),
                    phrase=" / ".join(c.phrases),
                    speaker=c.speaker,
                    code="condition_not_met",
                )
                for c in item.conditions
            ]
            return _result(section_id, item, NA, notes)
    if isinstance(check, PhraseCheck):
        state, ev = _phrases(check, ctx)
        verdict = {"found": PASS, "borderline": REVIEW, "missing": FAIL, "unresolved": REVIEW}[state]
        gap = _unheard_in(check, ctx) if state == "missing" else None
        if gap is not None:
            # The recognizer heard nothing where this speaker was talking: "not
            # said" is not established, so a person listens instead.
            verdict = REVIEW
            ev = [
                Evidence(
                    "note",
                    f"{gap.speaker} speech at {gap.start:.1f}-{gap.end:.1f} s was not recognized; listen there",
                    speaker=gap.speaker,
                    start=gap.start,
                    end=gap.end,
                    code="unheard_speech",
                )
            ] + ev
        evidence.extend(ev)
    elif isinstance(check, ForbiddenCheck):
        state, ev = _phrases(check, ctx)
        verdict = {"found": FAIL, "borderline": REVIEW, "missing": PASS, "unresolved": REVIEW}[state]
        if state == "found" and ctx.mono:
            # mono: who said it is unknown, so a person decides
            verdict = REVIEW
            ev = ev + [Evidence("note", "mono recording: cannot tell who said it", code="mono_speaker")]
        if state == "missing":
            ev = [Evidence("note", "none of the forbidden phrases was said", code="forbidden_absent")] + [
                e for e in ev if e.kind == "missing" and e.similarity
            ]
        evidence.extend(ev)
    elif isinstance(check, MetricCheck):
        verdict, ev = _metric(check, ctx)
        evidence.append(ev)
    elif isinstance(check, ManualCheck):
        verdict = REVIEW
        evidence.append(Evidence("note", check.hint or "decided by a reviewer", code="manual"))
    else:  # pragma: no cover - the schema admits no other kind
        raise TypeError(check)
    return _result(section_id, item, verdict, evidence + condition)


def _roles_uncertain(result: ItemResult, confidence: float) -> ItemResult:
    note = Evidence(
        "note",
        f"mono recording: who is the operator was recovered with confidence {confidence:.2f}, "
        "and this verdict depends on it; listen to who said it",
        value=round(confidence, 2),
        code="roles_uncertain",
    )
    return replace(result, verdict=REVIEW, evidence=(note, *result.evidence))


def _for_a_person(result: ItemResult, fault: RecordingFault) -> ItemResult:
    """Every item of a faulty recording waits for a reviewer, the fault named first in its evidence."""
    note = Evidence("note", f"recording fault: {fault.detail}", code=fault.code)
    return replace(result, verdict=REVIEW, evidence=(note, *result.evidence))


def _result(section_id: str, item: Item, verdict: str, evidence: list[Evidence]) -> ItemResult:
    return ItemResult(
        section_id=section_id,
        item_id=item.id,
        title=item.title or item.id,
        kind=item.check.kind,
        weight=item.weight,
        critical=item.critical,
        verdict=verdict,
        evidence=tuple(evidence),
    )


def _label(ev: list[Evidence], prefix: str) -> list[Evidence]:
    return [Evidence(**{**e.to_dict(), "text": prefix + e.text}) for e in ev]


def _describe_condition(c: Condition) -> str:
    return f"{c.speaker} did not say " + " / ".join(f"«{p}»" for p in c.phrases)


def _speaks(spec, speaker: str) -> bool:
    """Whether ``speaker`` is who ``spec`` listens to (a mono recording's voice may be anyone)."""
    return spec.speaker == "any" or speaker in (spec.speaker, MIXED)


def _fits(spec, speaker: str, start: float, end: float, duration: float) -> bool:
    """Whether something said by ``speaker`` from ``start`` to ``end`` is where ``spec`` looks."""
    if not _speaks(spec, speaker):
        return False
    if spec.within_first_s is not None and start > spec.within_first_s:
        return False
    return spec.within_last_s is None or end >= duration - spec.within_last_s


def _window(spec, ctx: _Context) -> list[matching.Token]:
    dur = ctx.transcript.duration_s
    return [
        t
        for t in ctx.tokens
        if _fits(spec, t.speaker, t.start, t.end, dur)
        and (spec.within_first_turns is None or t.turn < spec.within_first_turns)
    ]


def _unheard_in(spec, ctx: _Context):
    """The first unrecognized stretch of speech that could hold what ``spec`` looks for."""
    t = ctx.transcript
    turns_end = None
    if spec.within_first_turns is not None:
        # the first N turns end where the Nth recognized turn ends; with fewer
        # turns recognized, any unheard stretch may be one of them
        mine = [s for s in t.segments if _speaks(spec, s.speaker)]
        if len(mine) >= spec.within_first_turns:
            turns_end = mine[spec.within_first_turns - 1].end
    for u in t.unheard:
        if _fits(spec, u.speaker, u.start, u.end, t.duration_s) and (turns_end is None or u.start <= turns_end):
            return u
    return None


def _where(spec) -> str:
    parts = []
    if spec.within_first_s:
        parts.append(f"in the first {spec.within_first_s:g} s")
    if spec.within_last_s:
        parts.append(f"in the last {spec.within_last_s:g} s")
    if spec.within_first_turns:
        parts.append(f"in the first {spec.within_first_turns} turn(s)")
    return (" " + ", ".join(parts)) if parts else ""


def _phrases(spec, ctx: _Context) -> tuple[str, list[Evidence]]:
    """'found' | 'borderline' | 'missing', with evidence for each phrase."""
    threshold = spec.threshold or ctx.threshold
    review_below = min(ctx.review_below, threshold)
    tokens = _window(spec, ctx)
    states, evidence = [], []
    for template in spec.phrases:
        phrase = resolve(template, ctx.variables)
        if phrase is None:
            states.append("unresolved")
            names = ", ".join("{" + n + "}" for n in variables_in(template) if not ctx.variables.get(n))
            evidence.append(
                Evidence(
                    "unresolved",
                    f"«{template}»: {names} is not known for this call; a person decides",
                    phrase=template,
                    code="unresolved_variable",
                )
            )
            continue
        matches = matching.find(phrase, tokens)
        best = matches[0] if matches else None
        if best and best.similarity >= threshold:
            state = "found"
        elif best and best.similarity >= review_below:
            state = "borderline"
        else:
            state = "missing"
        states.append(state)
        if best is None:
            evidence.append(Evidence("missing", f"«{phrase}» not said by {spec.speaker}{_where(spec)}", phrase=phrase))
            continue
        what = {"found": "said", "borderline": "maybe said", "missing": "closest"}[state]
        evidence.append(
            Evidence(
                state,
                f"«{phrase}» {what}: «{best.words}» ({best.speaker}, {best.start:.1f}-{best.end:.1f} s, "
                f"similarity {best.similarity:.2f})",
                phrase=phrase,
                words=best.words,
                speaker=best.speaker,
                start=round(best.start, 2),
                end=round(best.end, 2),
                similarity=best.similarity,
            )
        )
    if spec.need_all:
        state = (
            "found"
            if all(s == "found" for s in states)
            else "missing"
            if "missing" in states
            else "unresolved"
            if "unresolved" in states
            else "borderline"
        )
    else:
        state = (
            "found"
            if "found" in states
            else "borderline"
            if "borderline" in states
            else "unresolved"
            if "unresolved" in states
            else "missing"
        )
    if state != "missing" and not spec.need_all:
        evidence = [e for e in evidence if e.kind == state]  # what decided it
    return state, evidence


def _metric(check: MetricCheck, ctx: _Context) -> tuple[str, Evidence]:
    mv = ctx.metrics.get(check.metric)
    if mv is None or mv.value is None:
        note = mv.note if mv else "not measured"
        return NA, Evidence("metric", f"{check.metric}: n/a ({note})", code="metric_na", metric=check.metric)
    bounds = []
    ok = True
    if check.max is not None:
        bounds.append(f"max {check.max:g}")
        ok = ok and mv.value <= check.max
    if check.min is not None:
        bounds.append(f"min {check.min:g}")
        ok = ok and mv.value >= check.min
    span = f" at {mv.start:.1f}-{mv.end:.1f} s" if mv.start is not None and mv.end is not None else ""
    limit = " ".join(f"{sign} {v:g}" for sign, v in (("≥", check.min), ("≤", check.max)) if v is not None)
    return (PASS if ok else FAIL), Evidence(
        "metric",
        f"{check.metric} = {mv.value:g} ({', '.join(bounds)}){span}",
        value=mv.value,
        start=mv.start,
        end=mv.end,
        metric=check.metric,
        limit=limit,
    )

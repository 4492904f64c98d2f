"""Which of a mono call's two voices is the operator, and how sure that is. Pure.

The voices come apart by their sound (``core.diarization``); who is who
comes from what they say. An operator answers with the clinic's name, says
"чем могу помочь", "запишу вас", reads the checklist's phrases; a patient
says "хочу записаться", "алло" when called. Each such phrase heard from one
voice only is a cue; who speaks first is a weak one, turned round on
outbound calls (the patient picks up and speaks first). The cues add up as
log-odds, and the confidence is discounted when the voices barely differ,
since then the words themselves may be split wrongly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from qa_review.core import matching, turns
from qa_review.core.checklists import Checklist, PhraseCheck, resolve
from qa_review.core.domain import CLIENT, MIXED, OPERATOR, VOICE_1, VOICE_2, Diarization, Interval, Transcript, Word

# What clinics' operators say and patients do not (and the reverse). Single
# words are left out unless nobody else would say them: "здравствуйте"
# comes from both sides.
OPERATOR_CUES = (
    "администратор",
    "регистратура",
    "чем могу помочь",
    "чем могу вам помочь",
    "слушаю вас",
    "меня зовут",
    "запишу вас",
    "записываю вас",
    "вы записаны",
    "как к вам обращаться",
    "ваша фамилия",
    "ваши фамилия имя отчество",
    "дата рождения",
    "оставайтесь на линии",
    "ожидайте на линии",
    "спасибо за ожидание",
    "спасибо за обращение",
    "всего доброго",
    "будем рады вас видеть",
    "звоню вам из",
    "вас беспокоит",
    "напоминаем вам",
)
CLIENT_CUES = (
    "алло",
    "хочу записаться",
    "хотела бы записаться",
    "хотел бы записаться",
    "можно записаться",
    "могу записаться",
    "я хотела узнать",
    "я хотел узнать",
    "сколько стоит",
    "у меня болит",
)

CUE_WEIGHT = 1.0  # log-odds of one built-in cue heard from one voice only
CHECKLIST_WEIGHT = 0.5  # a checklist's phrase: the other side may echo it
FIRST_SPEAKER_WEIGHT = 0.8  # the first voice is the operator (inbound) or the patient (outbound)
NO_DIRECTION_WEIGHT = 0.4  # direction unknown: inbound is assumed, less firmly
MATCH = 0.85  # phrase similarity that counts as said

# Separation of the two voices' centroids: the demo's one synthetic voice on
# both sides gives 0.045-0.07 clean; two different voices 0.17-0.4 clean, but
# clipping, hum and noise pull them to 0.07-0.12 while the split itself stays
# right (benchmarks/mono.py, held-out). So only a split hardly apart at all is
# dropped, and in between the separation lowers the confidence.
ONE_VOICE_BELOW = 0.05
TWO_VOICES_FROM = 0.17
MIN_MINORITY = 0.05  # a "voice" with fewer of the words is a cough, a beep, hold music


@dataclass(frozen=True)
class RoleCue:
    kind: str  # operator_phrase | client_phrase | first_speaker
    voice: str
    weight: float  # toward VOICE_1 being the operator
    phrase: str = ""
    at: float | None = None

    def to_dict(self) -> dict:
        """As stored: ``voice`` is the role by then; ``phrase`` of a first_speaker cue is the direction."""
        return {"kind": self.kind, "role": self.voice, "phrase": self.phrase, "at": self.at, "weight": abs(self.weight)}


def describe(cue: dict) -> str:
    """One line for a stored cue (the app translates by ``kind``)."""
    if cue["kind"] == "first_speaker":
        return f"the {cue['role']} spoke first ({cue['phrase'] or 'direction unknown'} call)"
    side = "an operator's" if cue["kind"] == "operator_phrase" else "a patient's"
    return f"the {cue['role']} said «{cue['phrase']}» at {cue['at']:.1f} s, {side} phrase"


def role_phrases(checklists: Iterable[Checklist], variables: dict[str, str]) -> tuple[list[str], list[str]]:
    """(operator's, client's) phrases of several words in the checklists' phrase items and conditions."""
    op: list[str] = []
    cl: list[str] = []
    for c in checklists:
        for _, item in c.items():
            # a forbidden phrase says nothing about who the operator is
            specs = [item.check] if isinstance(item.check, PhraseCheck) else []
            for spec in [*specs, *item.conditions]:
                target = op if spec.speaker == OPERATOR else cl if spec.speaker == CLIENT else None
                if target is None:
                    continue
                for template in spec.phrases:
                    phrase = resolve(template, variables)
                    if phrase and len(matching.phrase_words(phrase)) >= 2 and phrase not in target:
                        target.append(phrase)
    return op, cl


def _heard(phrase: str, tokens: list[matching.Token]) -> dict[str, float]:
    """{voice: when} for each voice that said ``phrase``."""
    out: dict[str, float] = {}
    for voice in (VOICE_1, VOICE_2):
        mine = [t for t in tokens if t.speaker == voice]
        best = next(iter(matching.find(phrase, mine, floor=MATCH)), None)
        if best is not None and best.similarity >= MATCH:
            out[voice] = best.start
    return out


def cues(
    transcript: Transcript,
    *,
    direction: str | None,
    operator_phrases: Iterable[str] = (),
    client_phrases: Iterable[str] = (),
) -> list[RoleCue]:
    """Every cue for VOICE_1 being the operator (positive weight) or VOICE_2 (negative)."""
    tokens = matching.tokenize(transcript)
    found: list[RoleCue] = []
    lists = (
        ("operator_phrase", OPERATOR_CUES, CUE_WEIGHT, 1),
        ("operator_phrase", tuple(operator_phrases), CHECKLIST_WEIGHT, 1),
        ("client_phrase", CLIENT_CUES, CUE_WEIGHT, -1),
        ("client_phrase", tuple(client_phrases), CHECKLIST_WEIGHT, -1),
    )
    seen: set[str] = set()
    for kind, phrases, weight, sign in lists:
        for phrase in phrases:
            key = " ".join(matching.phrase_words(phrase))
            if key in seen:
                continue
            seen.add(key)
            heard = _heard(phrase, tokens)
            if len(heard) != 1:  # from both voices, or neither: no cue
                continue
            ((voice, at),) = heard.items()
            toward_voice_1 = sign if voice == VOICE_1 else -sign
            found.append(RoleCue(kind, voice, toward_voice_1 * weight, phrase, at))
    first = next((s.speaker for s in transcript.segments if s.speaker in (VOICE_1, VOICE_2)), None)
    if first is not None:
        if direction == "outbound":
            found.append(RoleCue("first_speaker", first, -FIRST_SPEAKER_WEIGHT, "outbound"))
        elif direction == "inbound":
            found.append(RoleCue("first_speaker", first, FIRST_SPEAKER_WEIGHT, "inbound"))
        else:
            found.append(RoleCue("first_speaker", first, NO_DIRECTION_WEIGHT, ""))
    return found


def voices_apart(d: Diarization) -> float:
    """0 (one voice, or a second "voice" too small to be a person) to 1 (two clearly different voices)."""
    if d.minority_share < MIN_MINORITY:
        return 0.0
    return min(1.0, max(0.0, (d.separation - ONE_VOICE_BELOW) / (TWO_VOICES_FROM - ONE_VOICE_BELOW)))


def assign(
    transcript: Transcript,
    *,
    direction: str | None,
    operator_phrases: Iterable[str] = (),
    client_phrases: Iterable[str] = (),
) -> Transcript:
    """The transcript with its two voices named operator and client, the confidence and cues kept.

    A transcript without voices (stereo, written, or mono not told apart) is
    returned as it is; one whose "two voices" are one keeps a single ``mixed``
    speaker, with the low confidence recorded.
    """
    d = transcript.diarization
    if d is None:
        return transcript
    if voices_apart(d) == 0.0:
        # One voice (or a second too slight to be a person): a split would be
        # noise, so the call stays one speaker, as a mono call without the encoder.
        both = {i: MIXED for i, s in enumerate(transcript.segments) if s.speaker in (VOICE_1, VOICE_2)}
        return replace(relabel(transcript, both), diarization=replace(d, confidence=0.5, cues=()))
    found = cues(transcript, direction=direction, operator_phrases=operator_phrases, client_phrases=client_phrases)
    odds = sum(c.weight for c in found)
    p_voice_1 = 1 / (1 + math.exp(-odds))
    sure = max(p_voice_1, 1 - p_voice_1)
    confidence = 0.5 + (sure - 0.5) * voices_apart(d)
    operator = VOICE_1 if odds >= 0 else VOICE_2
    name = {operator: OPERATOR, (VOICE_2 if operator == VOICE_1 else VOICE_1): CLIENT}
    explained = [replace(c, voice=name[c.voice]) for c in sorted(found, key=lambda c: -abs(c.weight))]
    return replace(
        rename(transcript, name),
        diarization=replace(d, confidence=round(confidence, 3), cues=tuple(c.to_dict() for c in explained)),
    )


def rename(transcript: Transcript, names: dict[str, str]) -> Transcript:
    """Speakers renamed in the lines, the activity and the unheard stretches (others kept)."""
    return replace(
        transcript,
        segments=tuple(replace(s, speaker=names.get(s.speaker, s.speaker)) for s in transcript.segments),
        activity=tuple(replace(a, speaker=names.get(a.speaker, a.speaker)) for a in transcript.activity),
        unheard=tuple(replace(u, speaker=names.get(u.speaker, u.speaker)) for u in transcript.unheard),
    )


def roles_certain(transcript: Transcript, min_confidence: float) -> bool:
    """Whether speaker-bound checks may trust who said what: always for stereo and written calls."""
    d = transcript.diarization
    return d is None or d.corrected_by is not None or d.confidence >= min_confidence


OTHER_SIDE = {OPERATOR: CLIENT, CLIENT: OPERATOR}


def relabel(transcript: Transcript, speakers: dict[int, str]) -> Transcript:
    """The transcript with the lines at the given indexes said by other speakers.

    The speech activity (what talk share, overtalk and first response are
    measured on) is rebuilt from each speaker's words, as transcription built it.
    """
    segs = tuple(replace(s, speaker=speakers.get(i, s.speaker)) for i, s in enumerate(transcript.segments))
    activity: list[Interval] = []
    for speaker in dict.fromkeys(s.speaker for s in segs):
        words = [w for s in segs if s.speaker == speaker for w in (s.words or (Word(s.start, s.end, s.text),))]
        activity.extend(turns.activity(speaker, words))
    return replace(transcript, segments=segs, activity=tuple(sorted(activity, key=lambda a: (a.start, a.speaker))))


def swapped(transcript: Transcript) -> dict[int, str]:
    """{index: the other side} for every operator's and client's line."""
    return {i: OTHER_SIDE[s.speaker] for i, s in enumerate(transcript.segments) if s.speaker in OTHER_SIDE}

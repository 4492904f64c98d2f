"""The domain: plain data, no IO.

A transcript has the same shape whether it came from ASR (a phone call) or
was written (chat, messenger, e-mail), so everything downstream treats every
channel alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum

OPERATOR = "operator"
CLIENT = "client"
MIXED = "mixed"  # mono audio: one channel carries both voices, not told apart
# A mono call's two voices, told apart by their sound, before the roles are known.
VOICE_1, VOICE_2 = "voice1", "voice2"


class CallStatus(StrEnum):
    INGESTED = "ingested"  # stored, waiting for the recognizer
    TRANSCRIBED = "transcribed"  # has a transcript (written conversations arrive so)
    FAILED = "failed"  # the recognizer failed; tried again on the next run


SPEAKERS = (OPERATOR, CLIENT, MIXED)

AUDIO_CHANNEL = "phone"
# How a call arrived: a recording for the recognizer, a written conversation,
# or a phone call known only by its transcript (no audio: never in ASR figures).
AUDIO, WRITTEN, TEXT_ONLY = "audio", "written", "transcript"
WRITTEN_CHANNELS = ("chat", "messenger", "email")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """One turn: a stretch of speech (or one message) by one speaker."""

    speaker: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["words"] = [asdict(w) for w in self.words]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Segment:
        return cls(
            speaker=d["speaker"],
            start=float(d["start"]),
            end=float(d["end"]),
            text=d["text"],
            words=tuple(Word(**w) for w in d.get("words") or ()),
        )


@dataclass(frozen=True)
class Interval:
    """A span when one speaker is active (speaking, or typing a message)."""

    speaker: str
    start: float
    end: float


@dataclass(frozen=True)
class Coverage:
    """How much of one speaker's detected speech the recognizer turned into words.

    ``speech_s`` is what an energy detector found on the speaker's channel
    (the other side's echo excluded); ``covered_s`` the part of it near a
    recognized word; ``restored_s`` what the speech-loss guard recovered by
    transcribing a missed stretch again without the VAD.
    """

    speaker: str
    speech_s: float
    covered_s: float
    restored_s: float = 0.0

    @property
    def coverage(self) -> float:
        return self.covered_s / self.speech_s if self.speech_s > 0 else 1.0


@dataclass(frozen=True)
class Diarization:
    """How a mono recording's words were given to operator and client.

    ``separation`` says whether there were two voices at all (1 - cosine of
    the two voices' centroids: about 0.05 for one voice, 0.17-0.4 for two
    different people); ``confidence`` that the operator is who the cues say
    (0.5: a coin toss); ``cues`` what decided it, for the reviewer.
    ``corrected_by`` names the reviewer who swapped the roles or moved a turn:
    from then on the roles are a person's, not a guess.
    """

    separation: float
    minority_share: float  # the less-heard voice's share of the words
    confidence: float = 0.0
    cues: tuple[dict, ...] = ()  # core.roles.RoleCue.to_dict(), strongest first
    corrected_by: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cues"] = [dict(c) for c in self.cues]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Diarization:
        return cls(
            separation=float(d["separation"]),
            minority_share=float(d.get("minority_share", 0.0)),
            confidence=float(d.get("confidence", 0.0)),
            cues=tuple(dict(c) for c in d.get("cues") or ()),
            corrected_by=d.get("corrected_by"),
        )


@dataclass(frozen=True)
class Transcript:
    """Who said what, when, for one call or conversation.

    ``activity`` holds speech activity per speaker, measured from word
    timings rather than Whisper's segment bounds (which stretch over silence);
    silence and overtalk metrics are computed from it.
    """

    call_id: str
    segments: tuple[Segment, ...]
    activity: tuple[Interval, ...] = ()
    duration_s: float = 0.0
    language: str = "ru"
    source: str = "asr"  # asr | written | imported (a call given as its transcript, no recording)
    coverage: tuple[Coverage, ...] = ()
    # Stretches where a speaker's channel holds speech but no word was
    # recognized even after the guard's second pass: a checklist must not
    # conclude "not said" there.
    unheard: tuple[Interval, ...] = ()
    # Mono recordings only: the roles were recovered from the voices.
    diarization: Diarization | None = None

    def coverage_of(self, speaker: str) -> Coverage | None:
        return next((c for c in self.coverage if c.speaker == speaker), None)

    def text_of(self, speaker: str) -> str:
        return " ".join(s.text for s in self.segments if s.speaker == speaker)


@dataclass(frozen=True)
class CallMeta:
    """What a contact center knows about a call before anyone listens to it."""

    call_id: str
    operator: str
    started_at: datetime
    channel: str = AUDIO_CHANNEL
    direction: str | None = None
    phone: str | None = None
    queue: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

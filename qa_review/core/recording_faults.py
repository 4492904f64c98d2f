"""A recording that cannot be judged: no speech at all, or none on the operator's channel.

A dead line, a recorder that captured one side only, or channels wired the
wrong way round look, to a checklist, like an operator who said nothing:
every phrase "missing", a zero score and a lost bonus. Such a call is a
fault for a person to look at, not a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa_review.core.domain import Transcript

NO_SPEECH = "no_speech"
OPERATOR_SILENT = "operator_silent"
FAULT_CODES = (NO_SPEECH, OPERATOR_SILENT)

# Less detected speech than this (a cough, a click, line noise) is silence.
MIN_SPEECH_S = 1.0


@dataclass(frozen=True)
class RecordingFault:
    code: str
    detail: str


def recording_fault(transcript: Transcript) -> RecordingFault | None:
    """The fault a transcribed recording shows, if any; written conversations have none."""
    if transcript.source != "asr":
        return None
    spoke = {s.speaker for s in transcript.segments if s.text.strip()}
    heard = {c.speaker: c.speech_s for c in transcript.coverage}
    if not spoke and sum(heard.values()) < MIN_SPEECH_S:
        return RecordingFault(
            NO_SPEECH,
            f"no speech in {transcript.duration_s:.0f} s of recording: a dead line or a recording fault",
        )
    if "operator" in heard and "operator" not in spoke and heard["operator"] < MIN_SPEECH_S:
        return RecordingFault(
            OPERATOR_SILENT,
            "no speech on the operator's channel while the client speaks: one side not recorded, "
            "or the channels swapped (QA_REVIEW_CHANNELS)",
        )
    return None

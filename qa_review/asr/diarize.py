"""Voice embeddings of a mono call's speech, for telling its two voices apart.

The recognizer's words say where the speech is; the encoder turns each
stretch of it into a voice embedding; ``core.diarization`` does the rest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa_review.asr import models
from qa_review.asr.voice_encoder import VoiceEncoder
from qa_review.core.diarization import speech_spans
from qa_review.core.domain import Word


class Diarizer:
    """Holds the speaker encoder; one per process, shared by the worker threads (it keeps no state)."""

    def __init__(self, encoder: VoiceEncoder, name: str = models.SPEAKER_ENCODER) -> None:
        self.encoder = encoder
        self.name = name

    @classmethod
    def installed(cls, models_dir: Path) -> Diarizer | None:
        """The registry's speaker encoder if it is installed, else None (mono calls then stay ``mixed``)."""
        path = models.installed_path(Path(models_dir), models.SPEAKER_ENCODER)
        return None if path is None else cls(VoiceEncoder.load(path))

    def embed(
        self, audio: np.ndarray, words: list[Word], offset_s: float = 0.0
    ) -> tuple[list[tuple[float, float]], np.ndarray]:
        """Spans of speech (in call time) around ``words`` and one embedding per span.

        ``audio`` is one window of 16 kHz mono audio starting at ``offset_s``;
        ``words`` are in call time and inside the window.
        """
        rel = [(w.start - offset_s, w.end - offset_s) for w in words]
        spans = speech_spans(rel)
        emb = self.encoder.embed_spans(audio, spans)
        return [(a + offset_s, b + offset_s) for a, b in spans], emb

"""A second ASR engine: local ONNX models through onnx-asr.

Russian telephony models (GigaAM v3, T-one, NeMo FastConformer) beat Whisper
on call-centre speech in their authors' tables, and their weights live on
model hubs a clinic downloads once: `qa-review models install NAME --from DIR
--type gigaam-v3-ctc`. onnx-asr loads such a folder with onnxruntime (no
torch); this adapter gives it the Transcriber port: short pieces in (these
models are trained on utterances, not minutes), words with timings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa_review.asr.audio import ASR_SAMPLE_RATE, quietest
from qa_review.asr.transcribe import AsrOptions
from qa_review.core import speech
from qa_review.core.domain import Segment, Word
from qa_review.core.errors import ModelError

LAST_WORD_S = 0.3  # a token has a start only; the last word of a piece gets this long


@dataclass
class OnnxAsrTranscriber:
    model_path: str
    model_type: str  # onnx-asr's name: gigaam-v3-ctc, t-one-ctc, nemo-conformer-ctc, ...
    options: AsrOptions = field(default_factory=AsrOptions)
    model_name: str = ""
    max_piece_s: float = 20.0

    def __post_init__(self) -> None:
        import onnx_asr

        self.model_name = self.model_name or self.model_type
        try:
            self._model = onnx_asr.load_model(self.model_type, self.model_path).with_timestamps()
        except Exception as e:  # onnx-asr and onnxruntime raise many kinds
            raise ModelError(
                f"cannot load the {self.model_type} ONNX model in {self.model_path!r}: {e}. "
                "The folder needs the model's .onnx file(s) and its vocabulary as published for onnx-asr"
            ) from e

    def _pieces(self, audio: np.ndarray, with_vad: bool) -> list[tuple[int, int]]:
        """Cuts of at most max_piece_s at quiet moments; with the VAD, only pieces that hold speech."""
        rate, limit = ASR_SAMPLE_RATE, int(self.max_piece_s * ASR_SAMPLE_RATE)
        cuts, a = [], 0
        while len(audio) - a > limit:
            b = quietest(audio[None, :], rate, a + limit // 2, a + limit)
            cuts.append((a, b))
            a = b
        cuts.append((a, len(audio)))
        if not with_vad:
            return cuts
        found = speech.detect(audio, rate)
        return [(a, b) for a, b in cuts if any(s * rate < b and e * rate > a for s, e in found)]

    def transcribe(
        self, audio: np.ndarray, *, vad: bool = True, hotwords: str | None = None
    ) -> tuple[list[Segment], str]:
        # hotwords: CTC and transducer models take no prompt; the vocabulary
        # still serves the checklists.
        words: list[Word] = []
        for a, b in self._pieces(audio, vad and self.options.vad_filter):
            if b - a < ASR_SAMPLE_RATE // 10:
                continue
            r = self._model.recognize(audio[a:b], sample_rate=ASR_SAMPLE_RATE)
            words += timed_words(r.tokens or [], r.timestamps or [], a / ASR_SAMPLE_RATE, (b - a) / ASR_SAMPLE_RATE)
        if not words:
            return [], self.options.language or "ru"
        text = "".join(w.text for w in words)
        return [Segment("", words[0].start, words[-1].end, text.strip(), tuple(words))], self.options.language or "ru"


def timed_words(tokens: list[str], times: list[float], offset: float, length: float) -> list[Word]:
    """Tokens (a leading space starts a word) with start times -> words with spans.

    A token has a start only: a word ends LAST_WORD_S after its last token,
    or where the next word starts if that is sooner.
    """
    out: list[list] = []  # [start, last token time, text]
    for tok, t in zip(tokens, times):
        if tok.startswith(" ") or not out:
            out.append([t, t, tok if tok.startswith(" ") else " " + tok])
        else:
            out[-1][1], out[-1][2] = t, out[-1][2] + tok
    words = []
    for i, (start, last, text) in enumerate(out):
        end = min(last + LAST_WORD_S, out[i + 1][0] if i + 1 < len(out) else length)
        words.append(Word(round(offset + start, 3), round(offset + max(end, start + 0.05), 3), text))
    return [w for w in words if w.text.strip()]

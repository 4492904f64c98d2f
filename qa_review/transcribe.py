"""Transcription: the Transcriber port and its faster-whisper adapter.

Stereo calls are transcribed one channel at a time, so every word has a
known speaker; mono calls get the single label ``mixed``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .audio import ASR_SAMPLE_RATE, decode_channels
from .domain import MIXED, Segment, Transcript, Word
from .errors import ModelError, TranscriptionError
from .turns import clean_channel, drop_crosstalk, merge_channels


@dataclass(frozen=True)
class AsrOptions:
    """What faster-whisper is asked to do; stored with every transcript.

    The defaults are the settings chosen by ``benchmarks/asr.py`` on the
    8 kHz telephone demo corpus (figures in the README). Silero VAD at its
    default threshold (0.5) kept 99.8 % of the reference speech there, so
    there was nothing to gain from a more sensitive VAD (0.3 gave a worse
    worst-speaker WER, 0.245 vs 0.231); without VAD the client's WER rose
    to 0.258 and processing took 50 % longer. Not conditioning on previous
    text keeps repetition loops from spreading (operator WER 0.218 -> 0.199
    against faster-whisper's defaults). Beam search (5) over greedy: client
    WER 0.233 -> 0.215 at the same speed on 2 cores.
    """

    language: str | None = "ru"
    beam_size: int = 5
    vad_filter: bool = True
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 2000
    vad_speech_pad_ms: int = 400
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_silence_threshold: float | None = 2.0
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    initial_prompt: str | None = None
    compute_type: str = "int8"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["temperature"] = list(self.temperature)
        return d


class Transcriber(Protocol):
    """Turns one channel of 16 kHz float audio into segments with words."""

    model_name: str
    options: AsrOptions

    def transcribe(self, audio: np.ndarray) -> tuple[list[Segment], str]:
        """Segments (speaker left empty) and the language used."""
        ...


@dataclass
class FasterWhisperTranscriber:
    model_path: str
    options: AsrOptions = field(default_factory=AsrOptions)
    workers: int = 1
    cpu_threads: int = 0  # 0: share the cores between workers
    model_name: str = ""

    def __post_init__(self) -> None:
        from faster_whisper import WhisperModel

        self.model_name = self.model_name or Path(self.model_path).name or self.model_path
        threads = self.cpu_threads or max(1, (os.cpu_count() or 1) // max(1, self.workers))
        try:
            self._model = WhisperModel(
                self.model_path,
                device="cpu",
                compute_type=self.options.compute_type,
                cpu_threads=threads,
                num_workers=max(1, self.workers),
            )
        except Exception as e:  # ctranslate2 / hub errors have no common base
            raise ModelError(
                f"cannot load ASR model {self.model_path!r}: {e}. For a registry model run "
                "`qa-review models install base`; a faster-whisper name needs the internet"
            ) from e

    def transcribe(self, audio: np.ndarray) -> tuple[list[Segment], str]:
        o = self.options
        vad = (
            {
                "threshold": o.vad_threshold,
                "min_silence_duration_ms": o.vad_min_silence_ms,
                "speech_pad_ms": o.vad_speech_pad_ms,
            }
            if o.vad_filter
            else None
        )
        segments, info = self._model.transcribe(
            audio,
            language=o.language,
            beam_size=o.beam_size,
            vad_filter=o.vad_filter,
            vad_parameters=vad,
            condition_on_previous_text=o.condition_on_previous_text,
            no_speech_threshold=o.no_speech_threshold,
            log_prob_threshold=o.log_prob_threshold,
            compression_ratio_threshold=o.compression_ratio_threshold,
            hallucination_silence_threshold=o.hallucination_silence_threshold,
            temperature=list(o.temperature),
            initial_prompt=o.initial_prompt,
            word_timestamps=True,
        )
        out = [
            Segment(
                speaker="",
                start=float(s.start),
                end=float(s.end),
                text=s.text.strip(),
                words=tuple(
                    Word(float(w.start), float(w.end), w.word, round(float(w.probability), 3))
                    for w in (s.words or ())
                ),
            )
            for s in segments  # a lazy generator: the work happens here
        ]
        return out, info.language


def _same_signal(a: np.ndarray, b: np.ndarray) -> bool:
    # Some PBXs write a mono mix to both channels; transcribing it twice
    # would double every word under two speakers.
    if a.shape != b.shape:
        return False
    return float(np.max(np.abs(a - b), initial=0.0)) < 1e-3


def transcribe_call(
    call_id: str,
    path: Path,
    transcriber: Transcriber,
    channel_roles: tuple[str, str],
) -> Transcript:
    try:
        channels = decode_channels(path, ASR_SAMPLE_RATE)
    except Exception as e:
        raise TranscriptionError(f"call {call_id}: {e}") from e
    duration = len(channels[0]) / ASR_SAMPLE_RATE
    if len(channels) == 2 and not _same_signal(channels[0], channels[1]):
        labelled = [(channel_roles[0], channels[0], channels[1]), (channel_roles[1], channels[1], channels[0])]
    else:
        labelled = [(MIXED, channels[0], None)]
    results = []
    language = transcriber.options.language or ""
    for speaker, audio, other in labelled:
        try:
            segs, language = transcriber.transcribe(audio)
        except Exception as e:
            raise TranscriptionError(
                f"call {call_id}: ASR failed on the {speaker} channel of {path}: {e}"
            ) from e
        if other is not None:
            segs = drop_crosstalk(segs, audio, other, ASR_SAMPLE_RATE)
        results.append((speaker, clean_channel(speaker, segs)))
    return merge_channels(call_id, results, duration, language)

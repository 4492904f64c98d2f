"""Transcription: the Transcriber port and its faster-whisper adapter.

Stereo calls are transcribed one channel at a time, so every word has a
known speaker. Mono calls are transcribed as one channel; with a
``Diarizer`` their words are then told apart by voice (``voice1``, who
speaks first, and ``voice2``; the services decide which is the operator),
without one they keep the single label ``mixed``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa_review.asr.audio import ASR_SAMPLE_RATE, iter_windows
from qa_review.core import diarization, speech
from qa_review.core.domain import MIXED, Coverage, Interval, Segment, Transcript, Word
from qa_review.core.errors import AudioError, ModelError, TranscriptionError
from qa_review.core.turns import clean_channel, drop_crosstalk, is_hallucination, merge_channels

if TYPE_CHECKING:
    from qa_review.asr.diarize import Diarizer


@dataclass(frozen=True)
class AsrOptions:
    """What faster-whisper is asked to do; stored with every transcript.

    The defaults were chosen by ``benchmarks/asr.py tune`` on half of the
    robustness corpus (31 telephone conditions, 5 voices; figures in the
    README), by the worst condition any setting makes usable, near-ties
    broken by the share of speech kept; the held-out half reports them.
    Silero VAD at 0.3 with 500 ms silences kept 54.5 % of the speech in the
    hardest tune condition against 26.8 % for the settings chosen earlier on
    the clean demo corpus alone (0.5, 2000 ms), with the clean client's WER
    0.151 against 0.209. No VAD at all kept less and misheard more (client
    mean 0.433). The speech-loss guard re-transcribes what the VAD still
    drops. Not conditioning on previous text keeps repetition loops from
    spreading; beam search (5) beat greedy. Hotwords are off: with base the
    clinic's vocabulary raised every WER (mean client 0.379 -> 0.451).
    """

    language: str | None = "ru"
    beam_size: int = 5
    vad_filter: bool = True
    vad_threshold: float = 0.3
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 400
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_silence_threshold: float | None = 2.0
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    initial_prompt: str | None = None
    compute_type: str = "int8"
    # The speech-loss guard: stretches of channel speech at least this long
    # with no recognized word are transcribed again without the VAD.
    guard: bool = True
    guard_min_gap_s: float = 0.7
    guard_min_probability: float = 0.0
    # Hotwords (the clinic's name, doctors' surnames, the operator's name)
    # bias the decoder toward those spellings; off, see above.
    use_hotwords: bool = False
    batch_size: int = 0  # >0: faster-whisper's batched pipeline
    window_s: float = 240.0  # long calls are transcribed this many seconds at a time

    def to_dict(self) -> dict:
        d = asdict(self)
        d["temperature"] = list(self.temperature)
        return d


class Transcriber(Protocol):
    """Turns one channel of 16 kHz float audio into segments with words."""

    model_name: str
    options: AsrOptions

    def transcribe(
        self, audio: np.ndarray, *, vad: bool = True, hotwords: str | None = None
    ) -> tuple[list[Segment], str]:
        """Segments of one window of one channel (speaker left empty) and the language.

        ``vad=False`` asks for every sound to be decoded (the speech-loss
        guard's second pass); ``hotwords`` are the call's own words.
        """
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
            if self.options.batch_size > 0:
                from faster_whisper import BatchedInferencePipeline

                self._batched = BatchedInferencePipeline(model=self._model)
        except Exception as e:  # ctranslate2 / hub errors have no common base
            raise ModelError(
                f"cannot load ASR model {self.model_path!r}: {e}. For a registry model run "
                "`qa-review models install base`; a faster-whisper name needs the internet"
            ) from e

    def transcribe(
        self, audio: np.ndarray, *, vad: bool = True, hotwords: str | None = None
    ) -> tuple[list[Segment], str]:
        o = self.options
        use_vad = o.vad_filter and vad
        params = (
            {
                "threshold": o.vad_threshold,
                "min_silence_duration_ms": o.vad_min_silence_ms,
                "speech_pad_ms": o.vad_speech_pad_ms,
            }
            if use_vad
            else None
        )
        extra = {}
        if hotwords and o.use_hotwords:
            extra["hotwords"] = hotwords
        engine = self._model
        if o.batch_size > 0 and use_vad:
            extra["batch_size"] = o.batch_size
            engine = self._batched
        segments, info = engine.transcribe(
            audio,
            language=o.language,
            beam_size=o.beam_size,
            vad_filter=use_vad,
            vad_parameters=params,
            condition_on_previous_text=o.condition_on_previous_text,
            no_speech_threshold=o.no_speech_threshold,
            log_prob_threshold=o.log_prob_threshold,
            compression_ratio_threshold=o.compression_ratio_threshold,
            hallucination_silence_threshold=o.hallucination_silence_threshold,
            temperature=list(o.temperature),
            initial_prompt=o.initial_prompt,
            word_timestamps=True,
            **extra,
        )
        out = [
            Segment(
                speaker="",
                start=float(s.start),
                end=float(s.end),
                text=s.text.strip(),
                words=tuple(
                    Word(float(w.start), float(w.end), w.word, round(float(w.probability), 3)) for w in (s.words or ())
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


def _shift(segs: list[Segment], by: float, keep_from: float, keep_to: float) -> list[Segment]:
    """Segments moved to call time, keeping only the words whose middle is this window's."""
    out = []
    for s in segs:
        words = tuple(
            Word(w.start + by, w.end + by, w.text, w.probability)
            for w in s.words
            if keep_from <= (w.start + w.end) / 2 + by < keep_to
        )
        if s.words and not words:
            continue
        if not s.words and not keep_from <= (s.start + s.end) / 2 + by < keep_to:
            continue
        out.append(replace(s, start=s.start + by, end=s.end + by, words=words))
    return out


def _snapped(segs: list[Segment], detected: list[tuple[float, float]]) -> list[Segment]:
    """Words stretched over silence by the aligner trimmed to the speech inside them."""
    out = []
    for s in segs:
        words = tuple(Word(*speech.snap(w.start, w.end, detected), w.text, w.probability) for w in s.words)
        out.append(
            replace(s, words=words, start=words[0].start if words else s.start, end=words[-1].end if words else s.end)
        )
    return out


GUARD_PAD_S = 0.4  # context around a missed stretch, so its first word is whole
GUARD_GAP_S = 1.0  # silence between missed stretches when they are sent together


def _guard(
    transcriber: Transcriber,
    audio: np.ndarray,
    other: np.ndarray | None,
    segs: list[Segment],
    hotwords: str | None,
) -> tuple[list[Segment], list[tuple[float, float]], list[tuple[float, float]], float]:
    """Transcribe again, without the VAD, the speech the first pass missed.

    Returns (segments with the recovered words added, detected speech, still
    unheard stretches, seconds recovered); times are the window's. The missed
    stretches go to the recognizer in one piece, joined by short silences
    (Whisper reads 30 s at a time, so one call per stretch would cost a full
    pass each), and every word is mapped back to where it was said.
    """
    o = transcriber.options
    rate = ASR_SAMPLE_RATE
    detected = speech.detect(audio, rate, other)
    word_spans = [(w.start, w.end) for s in segs for w in s.words]
    gaps = speech.missed(detected, word_spans, o.guard_min_gap_s)
    if not o.guard or not gaps:
        return segs, detected, gaps, 0.0
    pieces, table, pos = [], [], 0.0
    silence = np.zeros(int(GUARD_GAP_S * rate), np.float32)
    for gs, ge in gaps:
        a, b = max(0.0, gs - GUARD_PAD_S), min(len(audio) / rate, ge + GUARD_PAD_S)
        clip = audio[int(a * rate) : int(b * rate)]
        table.append((pos, pos + len(clip) / rate, a, gs, ge))
        pieces += [clip, silence]
        pos += (len(clip) + len(silence)) / rate
    joined = np.concatenate(pieces)
    extra, _ = transcriber.transcribe(joined, vad=False, hotwords=hotwords)
    restored: list[Segment] = []
    found: list[Word] = []
    for seg in extra:
        if is_hallucination(seg.text):  # Whisper's subtitle phrases over noise
            continue
        mine = []
        for w in seg.words:
            mid = (w.start + w.end) / 2
            for p0, p1, a, gs, ge in table:
                if p0 <= mid < p1 and gs - GUARD_PAD_S / 2 <= a + mid - p0 < ge + GUARD_PAD_S / 2:
                    if w.probability >= o.guard_min_probability:
                        mine.append(Word(a + w.start - p0, a + w.end - p0, w.text, w.probability))
                    break
        if mine:
            restored.append(Segment("", mine[0].start, mine[-1].end, seg.text, tuple(mine)))
            found += mine
    if not found:
        return segs, detected, gaps, 0.0
    merged = segs + restored
    spans = word_spans + [(w.start, w.end) for w in found]
    still = speech.missed(detected, spans, o.guard_min_gap_s)
    recovered = speech.intersect_length(speech.heard([(w.start, w.end) for w in found]), gaps)
    return merged, detected, still, recovered


def transcribe_call(
    call_id: str,
    path: Path,
    transcriber: Transcriber,
    channel_roles: tuple[str, str],
    *,
    hotwords: str | None = None,
    diarizer: Diarizer | None = None,
) -> Transcript:
    """One call's transcript, a window of a few minutes at a time.

    Each window is decoded, transcribed channel by channel, checked by the
    speech-loss guard and cleaned of the other side's echo, so memory depends
    on the window, not on the call's length. A mono call's voice embeddings
    are taken window by window too.
    """
    o = transcriber.options
    labels: list[str] | None = None
    per: dict[str, list[Segment]] = {}
    detected: dict[str, list[tuple[float, float]]] = {}
    unheard: dict[str, list[tuple[float, float]]] = {}
    restored: dict[str, float] = {}
    voice_spans: list[tuple[float, float]] = []
    voice_emb: list[np.ndarray] = []
    language = o.language or ""
    end = 0.0
    try:
        windows = iter_windows(path, ASR_SAMPLE_RATE, window_s=o.window_s)
        for win in windows:
            chans = win.channels
            if labels is None:
                stereo = len(chans) == 2 and not _same_signal(chans[0], chans[1])
                labels = list(channel_roles) if stereo else [MIXED]
            end = win.offset_s + win.length_s
            for i, speaker in enumerate(labels):
                audio = chans[i]
                other = chans[1 - i] if len(labels) == 2 else None
                try:
                    segs, language = transcriber.transcribe(audio, hotwords=hotwords)
                    if other is not None:
                        segs = drop_crosstalk(segs, audio, other, ASR_SAMPLE_RATE)
                    segs, found, still, got = _guard(transcriber, audio, other, segs, hotwords)
                    segs = _snapped(segs, found)
                    if other is not None:
                        segs = drop_crosstalk(segs, audio, other, ASR_SAMPLE_RATE)
                except AudioError:
                    raise
                except Exception as e:
                    raise TranscriptionError(
                        f"call {call_id}: ASR failed on the {speaker} channel of {path} at {win.offset_s:.0f} s: {e}"
                    ) from e
                by, lo, hi = win.offset_s, win.keep_from, win.keep_to
                mine = _shift(segs, by, lo, hi)
                per.setdefault(speaker, []).extend(mine)
                if diarizer is not None and speaker == MIXED:
                    spans, emb = diarizer.embed(audio, [w for s in mine for w in s.words], by)
                    voice_spans.extend(spans)
                    voice_emb.append(emb)
                own = [(s + by, e + by) for s, e in found if lo <= (s + e) / 2 + by < hi]
                detected.setdefault(speaker, []).extend(own)
                unheard.setdefault(speaker, []).extend(
                    (s + by, e + by) for s, e in still if lo <= (s + e) / 2 + by < hi
                )
                restored[speaker] = restored.get(speaker, 0.0) + got
    except AudioError as e:
        raise TranscriptionError(f"call {call_id}: {e}") from e
    assert labels is not None
    results = [(sp, clean_channel(sp, per.get(sp, []))) for sp in labels]
    t = merge_channels(call_id, results, end, language)
    coverage = []
    for sp, segs in results:
        words = [(w.start, w.end) for s in segs for w in s.words]
        spoken = detected.get(sp, [])
        covered = speech.intersect_length(spoken, speech.heard(words))
        coverage.append(
            Coverage(sp, round(sum(e - s for s, e in spoken), 2), round(covered, 2), round(restored.get(sp, 0.0), 2))
        )
    gaps = sorted(
        (Interval(sp, round(s, 2), round(e, 2)) for sp, spans in unheard.items() for s, e in spans),
        key=lambda i: i.start,
    )
    t = replace(t, coverage=tuple(coverage), unheard=tuple(gaps))
    if voice_spans:
        t = diarization.split_transcript(t, voice_spans, np.concatenate(voice_emb))
    return t

"""Which engine runs a model: faster-whisper for CTranslate2 Whisper folders and
names, onnx-asr for the ONNX folders a clinic installs with --type."""

from __future__ import annotations

from qa_review.asr import models as asr_models
from qa_review.asr.transcribe import AsrOptions, FasterWhisperTranscriber, Transcriber


def make_transcriber(model_path: str, options: AsrOptions, *, workers: int = 1, model_name: str = "") -> Transcriber:
    engine, model_type = asr_models.engine_of(model_path)
    if engine == asr_models.ONNX_ASR:
        from qa_review.asr.onnx_engine import OnnxAsrTranscriber

        return OnnxAsrTranscriber(model_path, model_type or "", options=options, model_name=model_name)
    return FasterWhisperTranscriber(model_path, options=options, workers=workers, model_name=model_name)


def check_loads(path, engine: str, model_type: str | None) -> None:
    """Load a model folder once, as install --from does before registering it."""
    if engine == asr_models.ONNX_ASR:
        from qa_review.asr.onnx_engine import OnnxAsrTranscriber

        OnnxAsrTranscriber(str(path), model_type or "")
    else:
        FasterWhisperTranscriber(str(path))

"""The site's ASR profile: one validated YAML file for how calls are transcribed.

    # asr-profile.yaml (QA_REVIEW_ASR_PROFILE; built-in defaults when absent)
    model: base                # registry name, faster-whisper name or a folder
    language: ru
    beam_size: 5
    vad: {enabled: true, threshold: 0.3, min_silence_ms: 500, speech_pad_ms: 400}
    guard: {enabled: true, min_gap_s: 0.7}
    vocabulary:
      clinic: Клиника Здоровье  # also the {clinic} checklist variable
      terms: [Соколова, Волков, кардиолог, УЗИ]
      operator_name: true      # add the operator's spoken name per call

Everything not given keeps the default that benchmarks/asr.py chose on
held-out recordings, so a clinic writes only what differs. The settings
each transcript was made with are stored beside it, as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from qa_review.asr.transcribe import AsrOptions
from qa_review.core.errors import ProfileError
from qa_review.core.yamlcheck import compose, validate

_DEFAULT = AsrOptions()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Vad(_Strict):
    enabled: bool = _DEFAULT.vad_filter
    threshold: float = Field(_DEFAULT.vad_threshold, gt=0, lt=1)
    min_silence_ms: int = Field(_DEFAULT.vad_min_silence_ms, ge=0)
    speech_pad_ms: int = Field(_DEFAULT.vad_speech_pad_ms, ge=0)


class Guard(_Strict):
    enabled: bool = _DEFAULT.guard
    min_gap_s: float = Field(_DEFAULT.guard_min_gap_s, gt=0)


class Vocabulary(_Strict):
    clinic: str | None = None
    terms: tuple[str, ...] = ()
    operator_name: bool = True
    use: bool = _DEFAULT.use_hotwords  # false: keep the names for checklists only


class AsrProfile(_Strict):
    model: str = "base"
    language: str | None = _DEFAULT.language
    beam_size: int = Field(_DEFAULT.beam_size, ge=1, le=20)
    batch_size: int = Field(_DEFAULT.batch_size, ge=0, le=64)
    window_s: float = Field(_DEFAULT.window_s, ge=30, le=1800)
    compute_type: str = _DEFAULT.compute_type
    condition_on_previous_text: bool = _DEFAULT.condition_on_previous_text
    vad: Vad = Vad()
    guard: Guard = Guard()
    vocabulary: Vocabulary = Vocabulary()

    def options(self, *, language: str | None = None) -> AsrOptions:
        """faster-whisper's options; ``language`` overrides the profile's ("auto": detect)."""
        lang = language or self.language
        return replace(
            _DEFAULT,
            language=None if lang in (None, "auto") else lang,
            beam_size=self.beam_size,
            batch_size=self.batch_size,
            window_s=self.window_s,
            compute_type=self.compute_type,
            condition_on_previous_text=self.condition_on_previous_text,
            vad_filter=self.vad.enabled,
            vad_threshold=self.vad.threshold,
            vad_min_silence_ms=self.vad.min_silence_ms,
            vad_speech_pad_ms=self.vad.speech_pad_ms,
            guard=self.guard.enabled,
            guard_min_gap_s=self.guard.min_gap_s,
            use_hotwords=self.vocabulary.use,
        )

    def hotwords(self, operator_name: str | None = None) -> str | None:
        """The words to bias one call's decoding toward, or None."""
        v = self.vocabulary
        words = [v.clinic] if v.clinic else []
        if v.operator_name and operator_name:
            words.append(operator_name)
        words += list(v.terms)
        return " ".join(w.strip() for w in words if w and w.strip()) or None

    def variables(self, operator_name: str | None) -> dict[str, str]:
        """Checklist call variables this profile and the call's operator resolve."""
        out = {}
        if self.vocabulary.clinic:
            out["clinic"] = self.vocabulary.clinic
        if operator_name:
            out["operator_name"] = operator_name
        return out

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True, sort_keys=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_yaml().encode()).hexdigest()


DEFAULT = AsrProfile()


def parse(text: str, source: str = "<string>") -> AsrProfile:
    if not text.strip():
        return DEFAULT
    node, data = compose(text, source, ProfileError, "an ASR profile is a mapping (model:, vad:, vocabulary: ...)")
    return validate(AsrProfile, node, data, source, ProfileError)


def load(path: Path | None) -> AsrProfile:
    """The profile at ``path``; the built-in defaults when there is no such file."""
    if path is None or not Path(path).exists():
        return DEFAULT
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"{path}: cannot read the ASR profile ({e})") from e
    return parse(text, str(path))


def write(profile: AsrProfile, path: Path, comment: str = "") -> Path:
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    Path(path).write_text(head + profile.to_yaml(), encoding="utf-8")
    return Path(path)

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qa_review.asr.models import installed_path
from qa_review.asr.transcribe import AsrOptions
from qa_review.core.domain import Segment, Word
from qa_review.core.permissions import system_actor
from qa_review.services.settings import REPO_ROOT, Settings
from qa_review.storage import open_storage

DEMO = REPO_ROOT / "demo"
MODELS = REPO_ROOT / "models"
# Who runs the pipeline's batch steps in tests: the command line's kind of admin.
PIPELINE = system_actor("tests")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(db_path=tmp_path / "qa.db", models_dir=MODELS)


@pytest.fixture
def fresh_db():
    return open_storage(":memory:")


class FakeTranscriber:
    """Says one word per second of audio louder than silence; can be told to fail.

    ``fail_after`` raises ``error`` once that many channels were transcribed,
    to act out a crash or a kill in the middle of a batch.
    """

    model_name = "fake"
    options = AsrOptions()

    def __init__(self, fail_after: int | None = None, error: BaseException | None = None):
        self.calls = 0
        self.fail_after = fail_after
        self.error = error or RuntimeError("boom")

    def transcribe(self, audio: np.ndarray, *, vad: bool = True, hotwords: str | None = None):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise self.error
        self.calls += 1
        words = []
        for sec in range(int(len(audio) / 16000)):
            chunk = audio[sec * 16000 : (sec + 1) * 16000]
            if chunk.size and float(np.abs(chunk).max()) > 0.05:
                words.append(Word(sec + 0.1, sec + 0.6, f" слово{sec}"))
        if not words:
            return [], "ru"
        return [Segment("", words[0].start, words[-1].end, "".join(w.text for w in words), tuple(words))], "ru"


@pytest.fixture
def fake_transcriber():
    return FakeTranscriber


def _model_path() -> Path:
    path = installed_path(MODELS, "base")
    if path is None:
        pytest.fail("the base model is not installed: run `make model` (or `qa-review models install base`)")
    return path


@pytest.fixture(scope="session")
def voice_encoder_path() -> Path:
    path = installed_path(MODELS, "voice-encoder")
    if path is None:
        pytest.fail(
            "the speaker encoder is not installed: run `make model` (or `qa-review models install voice-encoder`)"
        )
    return path


@pytest.fixture(scope="session")
def base_model_path() -> Path:
    return _model_path()


@pytest.fixture(scope="session")
def real_transcriber(base_model_path):
    from qa_review.asr.transcribe import FasterWhisperTranscriber

    return FasterWhisperTranscriber(str(base_model_path), model_name="base")


@pytest.fixture(scope="session")
def demo_copy(tmp_path_factory) -> Path:
    """The demo corpus copied, so tests may add or break files freely."""
    dst = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns("work", "__pycache__"))
    return dst

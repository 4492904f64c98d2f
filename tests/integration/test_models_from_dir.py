"""A clinic's own CTranslate2 Whisper folder: checked, copied, registered, resolved."""

import pytest

from qa_review.asr import models as asr_models
from qa_review.core.errors import ModelError


def _folder(path, files=asr_models.REQUIRED_FILES):
    path.mkdir(parents=True)
    for f in files:
        (path / f).write_text("{}" if f.endswith(".json") else "weights")
    return path


def test_a_complete_folder_that_loads_is_copied_and_resolves_by_name(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    src = _folder(tmp_path / "whisper-small-ct2")
    loaded = []
    target = asr_models.install_from("small-clinic", src, models, check=lambda *a: loaded.append(a), say=lambda m: None)
    assert loaded == [(src, "faster-whisper", None)]
    assert (target / "model.bin").read_text() == "weights"
    (src / "model.bin").unlink()  # the source may move or vanish afterwards
    assert asr_models.resolve("small-clinic", models) == str(target)
    assert [m["name"] for m in asr_models.list_models(models)] == ["small-clinic"]


def test_an_incomplete_folder_names_what_is_missing(tmp_path):
    src = _folder(tmp_path / "half", files=("model.bin", "config.json"))
    with pytest.raises(ModelError, match="missing tokenizer.json, vocabulary.json"):
        asr_models.install_from("half", src, tmp_path, check=lambda *a: None, say=lambda m: None)


def test_a_folder_that_does_not_load_is_refused_and_nothing_is_registered(tmp_path):
    src = _folder(tmp_path / "broken")

    def fails(*args):
        raise RuntimeError("Unsupported model binary version")

    with pytest.raises(ModelError, match="does not load .*Unsupported model binary"):
        asr_models.install_from("broken", src, tmp_path / "m", check=fails, say=lambda m: None)
    assert not (tmp_path / "m" / "broken").exists()


@pytest.mark.parametrize("name, match", [("Base Model", "use lower-case"), ("x", None)])
def test_names_are_checked(tmp_path, name, match):
    models = tmp_path / "models"
    models.mkdir()
    src = _folder(tmp_path / "src")
    if match:
        with pytest.raises(ModelError, match=match):
            asr_models.install_from(name, src, models, check=lambda *a: None, say=lambda m: None)
    else:
        asr_models.install_from(name, src, models, check=lambda *a: None, say=lambda m: None)
        with pytest.raises(ModelError, match="exists; pass --force"):
            asr_models.install_from(name, src, models, check=lambda *a: None, say=lambda m: None)


@pytest.mark.model
def test_the_real_base_model_installs_from_a_folder_through_the_cli(tmp_path, base_model_path):
    from click.testing import CliRunner

    from qa_review.cli import cli

    models = tmp_path / "models"
    models.mkdir()
    result = CliRunner().invoke(
        cli, ["models", "install", "mine", "--from", str(base_model_path)], env={"QA_REVIEW_MODELS": str(models)}
    )
    assert result.exit_code == 0, result.output
    assert asr_models.resolve("mine", models) == str(models / "mine")


# --- the second engine: ONNX models through onnx-asr ------------------------------------


def _stereo_call(path, rate=16000):
    import wave

    import numpy as np

    t = np.arange(int(14 * rate)) / rate
    chans = np.random.default_rng(0).normal(0, 0.001, (2, len(t)))
    for ch, s, e in [(0, 1.0, 2.5), (1, 4.0, 5.0), (0, 7.0, 8.0), (1, 10.0, 11.5)]:
        on = (t >= s) & (t < e)
        chans[ch, on] += 0.3 * np.sin(2 * np.pi * (400 + 200 * ch) * t[on])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(chans.T, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


def test_an_onnx_folder_needs_its_type(tmp_path):
    from tests.onnx_model import build

    src = build(tmp_path / "tiny")
    with pytest.raises(ModelError, match="--type"):
        asr_models.install_from("tiny", src, tmp_path, check=lambda *a: None, say=lambda m: None)


def test_an_onnx_model_installs_and_transcribes_a_call_with_timed_words(tmp_path):
    from qa_review.asr.engines import check_loads, make_transcriber
    from qa_review.asr.onnx_engine import OnnxAsrTranscriber
    from qa_review.asr.transcribe import AsrOptions, transcribe_call
    from tests.onnx_model import build

    models = tmp_path / "models"
    models.mkdir()
    src = build(tmp_path / "tiny")
    asr_models.install_from("tiny", src, models, check=check_loads, model_type="nemo-conformer-ctc", say=lambda m: None)
    path = asr_models.resolve("tiny", models)
    assert asr_models.engine_of(path) == ("onnx-asr", "nemo-conformer-ctc")
    tr = make_transcriber(path, AsrOptions(), model_name="tiny")
    assert isinstance(tr, OnnxAsrTranscriber)
    t = transcribe_call("c1", _stereo_call(tmp_path / "call.wav"), tr, ("operator", "client"))
    got = [(s.speaker, s.text, round(s.start)) for s in t.segments]
    assert got == [("operator", "да", 1), ("client", "да", 4), ("operator", "да", 7), ("client", "да", 10)]
    for s in t.segments:
        assert s.words and s.words[0].end > s.words[0].start
    # coverage is measured as for Whisper (the toy's one token per burst
    # covers less of it than real speech, with a token every 0.1-0.3 s, would)
    assert {c.speaker for c in t.coverage if c.speech_s > 2} == {"operator", "client"}


def test_a_broken_onnx_folder_is_refused_at_install(tmp_path):
    from qa_review.asr.engines import check_loads
    from tests.onnx_model import build

    src = build(tmp_path / "tiny")
    (src / "vocab.txt").unlink()
    with pytest.raises(ModelError, match="does not load"):
        asr_models.install_from(
            "tiny", src, tmp_path / "models", check=check_loads, model_type="nemo-conformer-ctc", say=lambda m: None
        )


def test_timed_words_join_pieces_into_words():
    from qa_review.asr.onnx_engine import timed_words

    words = timed_words([" за", "пи", "сала", " вас"], [0.5, 0.62, 0.7, 1.1], offset=10.0, length=3.0)
    assert [(w.text, w.start, w.end) for w in words] == [(" записала", 10.5, 11.0), (" вас", 11.1, 11.4)]

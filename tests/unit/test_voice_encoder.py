"""The numpy speaker encoder and the legacy checkpoint reader, without PyTorch."""

from __future__ import annotations

import pickle
import struct
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest

from qa_review.asr.torch_legacy import load_legacy_checkpoint
from qa_review.asr.voice_encoder import N_MELS, VoiceEncoder, mel_filters, mel_frames, normalize_volume
from qa_review.core.errors import ModelError


def _weights(hidden: int = 8, layers: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = {}
    for k in range(layers):
        inputs = N_MELS if k == 0 else hidden
        w[f"lstm.weight_ih_l{k}"] = rng.normal(0, 0.3, (4 * hidden, inputs)).astype(np.float32)
        w[f"lstm.weight_hh_l{k}"] = rng.normal(0, 0.3, (4 * hidden, hidden)).astype(np.float32)
        w[f"lstm.bias_ih_l{k}"] = rng.normal(0, 0.1, 4 * hidden).astype(np.float32)
        w[f"lstm.bias_hh_l{k}"] = rng.normal(0, 0.1, 4 * hidden).astype(np.float32)
    w["linear.weight"] = rng.normal(0, 0.3, (6, hidden)).astype(np.float32)
    w["linear.bias"] = rng.normal(0.2, 0.1, 6).astype(np.float32)
    return w


def test_the_lstm_matches_onnxruntimes():
    pytest.importorskip("onnxruntime")
    from tests.onnx_lstm import embed, lstm_session

    weights = _weights()
    mels = np.random.default_rng(3).random((5, 40, N_MELS), dtype=np.float32)
    mine = VoiceEncoder(weights).embed(mels)
    ref = embed(lstm_session(weights), weights, mels)
    assert mine.shape == (5, 6)
    np.testing.assert_allclose(mine, ref, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(mine, axis=1), 1.0, rtol=1e-5)


def test_missing_weights_name_the_tensor_and_the_fix():
    weights = _weights()
    del weights["linear.bias"]
    with pytest.raises(ModelError, match="linear.bias.*--force"):
        VoiceEncoder(weights)


def test_mel_frames_put_a_tone_in_its_band():
    t = np.arange(16000) / 16000
    tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    mels = mel_frames(tone)
    assert mels.shape == (101, N_MELS)  # centred frames every 10 ms
    centres = mel_filters().argmax(axis=1) * 16000 / 400
    assert abs(centres[mels[50].argmax()] - 1000) < 150


def test_quiet_audio_is_raised_loud_audio_is_left():
    quiet = np.full(1600, 0.001, np.float32)
    loud = np.full(1600, 0.5, np.float32)
    assert np.sqrt(np.mean(normalize_volume(quiet) ** 2)) == pytest.approx(10 ** (-30 / 20), rel=1e-3)
    assert normalize_volume(loud) is loud


def test_a_span_is_embedded_from_its_own_frames_only():
    enc = VoiceEncoder(_weights())
    rng = np.random.default_rng(5)
    a = rng.normal(0, 0.1, 16000).astype(np.float32)
    b = rng.normal(0, 0.1, 16000).astype(np.float32)
    e1 = enc.embed_spans(np.concatenate([a, b]), [(0.2, 0.8)])
    e2 = enc.embed_spans(np.concatenate([a, np.zeros(16000, np.float32)]), [(0.2, 0.8)])
    np.testing.assert_allclose(e1, e2, atol=1e-4)  # what follows the span does not leak in
    assert enc.embed_spans(a, []).shape[0] == 0


# --- a legacy (pre-zip) PyTorch checkpoint, written here as torch 1.x wrote it ----------------


class _FloatStorage:  # stands in for torch.FloatStorage when pickled
    pass


def _rebuild_tensor_v2(*args):  # stands in for torch._utils._rebuild_tensor_v2
    raise AssertionError("never called: the reader supplies its own")


class _Store:
    def __init__(self, key: str, data: np.ndarray):
        self.key, self.data = key, data.astype(np.float32).ravel()


class _Tensor:
    def __init__(self, store: _Store, offset: int, size: tuple, stride: tuple):
        self.args = (store, offset, size, stride, False, OrderedDict())

    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Store):
            return ("storage", _FloatStorage, obj.key, "cpu", obj.data.size, None)
        return None


@pytest.fixture
def fake_torch(monkeypatch):
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    _FloatStorage.__module__, _FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2, torch._utils = _FloatStorage, _rebuild_tensor_v2, utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)


def _write(path, obj, stores: list[_Store], magic=0x1950A86A20F9469CFC6C, cut: int = 0) -> None:
    with open(path, "wb") as f:
        for header in (magic, 1001, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        _Pickler(f, protocol=2).dump(obj)
        pickle.dump([s.key for s in stores], f, protocol=2)
        for s in stores:
            f.write(struct.pack("<q", s.data.size))
            f.write(s.data.tobytes()[: len(s.data.tobytes()) - cut])


def test_a_legacy_checkpoint_is_read_without_torch(tmp_path, fake_torch):
    matrix = np.arange(12, dtype=np.float32).reshape(3, 4)
    store = _Store("0", matrix)
    state = OrderedDict(
        [
            ("w", _Tensor(store, 0, (3, 4), (4, 1))),
            ("w_t", _Tensor(store, 0, (4, 3), (1, 4))),  # a transposed view of the same storage
            ("row", _Tensor(store, 4, (4,), (1,))),
        ]
    )
    _write(tmp_path / "m.pt", {"model_state": state, "step": 7}, [store])
    got = load_legacy_checkpoint(tmp_path / "m.pt")
    assert got["step"] == 7
    np.testing.assert_array_equal(got["model_state"]["w"], matrix)
    np.testing.assert_array_equal(got["model_state"]["w_t"], matrix.T)
    np.testing.assert_array_equal(got["model_state"]["row"], matrix[1])


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo should never run",))


def test_a_checkpoint_with_code_is_refused(tmp_path, fake_torch):
    _write(tmp_path / "evil.pt", {"model_state": _Evil()}, [])
    with pytest.raises(ModelError, match="refusing"):
        load_legacy_checkpoint(tmp_path / "evil.pt")


def test_damaged_checkpoints_are_named(tmp_path, fake_torch):
    store = _Store("0", np.ones(8))
    _write(tmp_path / "cut.pt", {"w": _Tensor(store, 0, (8,), (1,))}, [store], cut=4)
    with pytest.raises(ModelError, match="cut short.*--force"):
        load_legacy_checkpoint(tmp_path / "cut.pt")
    _write(tmp_path / "zip.pt", {}, [], magic=42)
    with pytest.raises(ModelError, match="not a legacy PyTorch checkpoint"):
        load_legacy_checkpoint(tmp_path / "zip.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ModelError, match="not a PyTorch checkpoint"):
        load_legacy_checkpoint(tmp_path / "text.pt")


def test_the_registry_installs_the_speaker_encoder_as_plain_arrays(tmp_path, fake_torch):
    import hashlib

    import yaml

    from qa_review.asr import models as asr_models
    from qa_review.asr.diarize import Diarizer

    weights = _weights()
    stores = [_Store(str(k), v) for k, v in enumerate(weights.values())]
    state = OrderedDict(
        (name, _Tensor(st, 0, v.shape, tuple(int(np.prod(v.shape[i + 1 :])) for i in range(v.ndim))))
        for (name, v), st in zip(weights.items(), stores, strict=True)
    )
    source = tmp_path / "wheel" / "resemblyzer"
    source.mkdir(parents=True)
    _write(source / "pretrained.pt", {"step": 1, "model_state": state}, stores)
    digest = hashlib.sha256((source / "pretrained.pt").read_bytes()).hexdigest()
    models = tmp_path / "models"
    models.mkdir()
    (models / "registry.yaml").write_text(
        yaml.safe_dump(
            {
                "voices": {
                    "description": "speaker encoder",
                    "kind": "speaker",
                    "packages": [{"name": "resemblyzer", "version": "0.1.4", "module": "resemblyzer"}],
                    "files": {"pretrained.pt": {"sha256": digest}},
                }
            }
        )
    )
    target = asr_models.install("voices", models, fetch=lambda pkg, tmp, say: source, say=lambda m: None)
    assert (target / "encoder.npz").exists() and not (target / "pretrained.pt").exists()
    enc = VoiceEncoder.load(target)
    mels = np.random.default_rng(2).random((2, 30, N_MELS), dtype=np.float32)
    np.testing.assert_allclose(enc.embed(mels), VoiceEncoder(weights).embed(mels), atol=1e-6)
    with pytest.raises(ModelError, match="not a speech recognizer"):
        asr_models.resolve("voices", models)
    (row,) = asr_models.list_models(models)
    assert row["installed"] and row["description"].startswith("[speaker]")
    assert Diarizer.installed(tmp_path / "nowhere") is None

"""A tiny NeMo-CTC-shaped ONNX model, built in the test, for the second ASR engine.

It hears loudness, not words: a stretch of sound becomes «да», silence is
blank. What it proves is the plumbing
(onnx-asr loads a local folder, tokens become timed words, the pipeline runs),
not recognition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def build(folder: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    folder.mkdir(parents=True, exist_ok=True)
    # vocab.txt: SentencePiece pieces with ids; "▁" starts a word
    (folder / "vocab.txt").write_text("▁да 0\n▁нет 1\n<blk> 2\n", encoding="utf-8")
    w = np.array([[6.0, 0.0, -6.0]], np.float32)  # per frame: mean normalized log-mel energy -> logits
    b = np.array([0.0, -30.0, 0.0], np.float32)  # «нет» never wins: only there to be a vocabulary
    nodes = [
        helper.make_node("AveragePool", ["audio_signal"], ["pooled"], kernel_shape=[8], strides=[8], ceil_mode=1),
        helper.make_node("ReduceMean", ["pooled", "axes"], ["energy"], keepdims=1),
        helper.make_node("Transpose", ["energy"], ["frames"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["frames", "w"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["logits"]),
        helper.make_node("LogSoftmax", ["logits"], ["logprobs"], axis=-1),
        helper.make_node("Identity", ["length"], ["unused_length"]),
    ]
    graph = helper.make_graph(
        nodes,
        "loudness-ctc",
        [
            helper.make_tensor_value_info("audio_signal", TensorProto.FLOAT, ["B", 80, "T"]),
            helper.make_tensor_value_info("length", TensorProto.INT64, ["B"]),
        ],
        [
            helper.make_tensor_value_info("logprobs", TensorProto.FLOAT, ["B", "T8", 3]),
            helper.make_tensor_value_info("unused_length", TensorProto.INT64, ["B"]),
        ],
        initializer=[
            helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.flatten()),
            helper.make_tensor("b", TensorProto.FLOAT, b.shape, b),
            helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    return folder

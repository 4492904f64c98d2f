"""The speaker encoder's LSTM as an ONNX graph, run by onnxruntime: an independent implementation
to check ``asr.voice_encoder`` against (used by its unit test and by benchmarks/voice_encoder_check.py)."""

from __future__ import annotations

import numpy as np

GATE_ORDER = [0, 3, 1, 2]  # PyTorch's gates i, f, g, o -> ONNX's i, o, f, c


def lstm_session(weights: dict[str, np.ndarray], layers: int = 3):
    """An onnxruntime session: input "x" (frames, batch, mels) -> "H<last>" (1, batch, hidden)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    prev = "x"
    for k in range(layers):
        w = weights[f"lstm.weight_ih_l{k}"]
        hidden = w.shape[0] // 4

        def gates(a, hidden=hidden):
            return np.concatenate([a[i * hidden : (i + 1) * hidden] for i in GATE_ORDER])

        inits += [
            numpy_helper.from_array(gates(w)[None].astype(np.float32), f"W{k}"),
            numpy_helper.from_array(gates(weights[f"lstm.weight_hh_l{k}"])[None].astype(np.float32), f"R{k}"),
            numpy_helper.from_array(
                np.concatenate([gates(weights[f"lstm.bias_ih_l{k}"]), gates(weights[f"lstm.bias_hh_l{k}"])])[
                    None
                ].astype(np.float32),
                f"B{k}",
            ),
            numpy_helper.from_array(np.array([1], np.int64), f"axis{k}"),
        ]
        nodes.append(
            helper.make_node("LSTM", [prev, f"W{k}", f"R{k}", f"B{k}"], [f"Y{k}", f"H{k}"], hidden_size=hidden)
        )
        nodes.append(helper.make_node("Squeeze", [f"Y{k}", f"axis{k}"], [f"S{k}"]))
        prev = f"S{k}"
    mels = weights["lstm.weight_ih_l0"].shape[1]
    graph = helper.make_graph(
        nodes,
        "voice-encoder-lstm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, mels])],
        [helper.make_tensor_value_info(f"H{layers - 1}", TensorProto.FLOAT, [1, None, None])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def embed(session, weights: dict[str, np.ndarray], mels: np.ndarray, layers: int = 3) -> np.ndarray:
    """(batch, frames, mels) -> L2-normalized embeddings, as Resemblyzer computes them."""
    (h,) = session.run(None, {"x": np.ascontiguousarray(mels.transpose(1, 0, 2))})
    raw = np.maximum(h[0] @ weights["linear.weight"].T + weights["linear.bias"], 0)
    return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)

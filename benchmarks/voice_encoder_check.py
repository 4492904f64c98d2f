"""Is the numpy speaker encoder the model Resemblyzer runs? Checked against independent implementations.

    .venv/bin/python benchmarks/voice_encoder_check.py            # LSTM against onnxruntime's LSTM
    OTHER_PYTHON -m benchmarks.voice_encoder_check --mel          # features against librosa

The weights are read from the installed ``voice-encoder`` (``qa-review models
install voice-encoder``). Three checks, each where its reference can run:
- the mel features against ``librosa.feature.melspectrogram`` (what
  Resemblyzer calls), on noise and on the demo's speech: needs librosa;
- the LSTM, linear layer and norm against the same weights in an ONNX graph
  run by onnxruntime (its LSTM operator, gates reordered as ONNX wants them);
- the whole embedding against Resemblyzer itself, where torch imports (the
  registry's torch is a CUDA build that needs NVIDIA's libraries; none here).
Prints the largest relative difference of each, and the cosine of the
embeddings; a check that cannot run says why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.asr.voice_encoder import N_MELS, WINDOW_FRAMES, VoiceEncoder, mel_frames  # noqa: E402
from tests.onnx_lstm import embed as onnx_embed  # noqa: E402
from tests.onnx_lstm import lstm_session  # noqa: E402

MODEL = ROOT / "models" / "voice-encoder"
DEMO = ROOT / "demo" / "calls"


def demo_speech(seconds: float = 6.0) -> np.ndarray:
    """A few seconds of the demo's speech at 16 kHz, without any decoder beyond the standard library."""
    import subprocess

    src = sorted(DEMO.glob("*.*"))[0]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-ac", "1", "-ar", "16000", "-f", "s16le", "-t", str(seconds), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768


def check_mel() -> None:
    try:
        import librosa
    except ImportError:
        print("mel features: skipped, librosa is not installed in this Python")
        return
    rng = np.random.default_rng(0)
    clips = {"noise": rng.standard_normal(48000).astype(np.float32) * 0.1}
    try:
        clips["demo speech"] = demo_speech()
    except (OSError, Exception) as e:  # no ffmpeg: noise alone
        print(f"  (demo speech skipped: {e})")
    for name, x in clips.items():
        ref = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=400, hop_length=160, n_mels=40).astype(np.float32).T
        mine = mel_frames(x)
        rel = float(np.abs(ref - mine).max() / np.abs(ref).max())
        print(f"mel features vs librosa {librosa.__version__}, {name}: shape {mine.shape}, max rel. diff {rel:.1e}")


def check_lstm() -> None:
    try:
        import onnxruntime
    except ImportError:
        print("LSTM: skipped, onnxruntime is not installed in this Python")
        return
    with np.load(MODEL / "encoder.npz") as z:
        weights = {k: z[k] for k in z.files}
    enc = VoiceEncoder(weights)
    session = lstm_session(weights)
    rng = np.random.default_rng(1)
    batches = {"random mels": rng.random((8, WINDOW_FRAMES, N_MELS), dtype=np.float32)}
    try:
        m = mel_frames(demo_speech())
        batches["demo speech"] = np.stack([m[i : i + WINDOW_FRAMES] for i in range(0, len(m) - WINDOW_FRAMES, 80)])
    except Exception as e:
        print(f"  (demo speech skipped: {e})")
    for name, mels in batches.items():
        ref = onnx_embed(session, weights, mels)
        mine = enc.embed(mels)
        cos = float(np.min(np.sum(ref * mine, axis=1)))
        print(
            f"LSTM + linear vs onnxruntime {onnxruntime.__version__}, {name} ({len(mels)} windows): "
            f"max abs. diff {np.abs(ref - mine).max():.1e}, lowest cosine {cos:.6f}"
        )


def check_resemblyzer() -> None:
    try:
        import torch  # noqa: F401
        from resemblyzer import VoiceEncoder as Reference
        from resemblyzer import audio
    except Exception as e:
        print(f"whole embedding vs Resemblyzer: skipped, it does not import here ({type(e).__name__}: {e})"[:300])
        return
    ref_enc = Reference(device="cpu", verbose=False)
    enc = VoiceEncoder.load(MODEL)
    x = demo_speech()
    m = audio.wav_to_mel_spectrogram(x)
    mels = np.stack([m[i : i + WINDOW_FRAMES] for i in range(0, len(m) - WINDOW_FRAMES, 80)])
    with torch.no_grad():
        ref = ref_enc(torch.from_numpy(mels)).numpy()
    mine = enc.embed(mels)
    print(f"whole embedding vs Resemblyzer: lowest cosine {float(np.min(np.sum(ref * mine, axis=1))):.6f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mel", action="store_true", help="only the mel check (for a Python with librosa)")
    args = ap.parse_args()
    check_mel()
    if args.mel:
        return
    if not (MODEL / "encoder.npz").exists():
        sys.exit(f"{MODEL}: not installed; run `qa-review models install voice-encoder`")
    check_lstm()
    check_resemblyzer()


if __name__ == "__main__":
    main()

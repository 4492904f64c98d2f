"""A speaker encoder in numpy: Resemblyzer's pretrained model (Apache-2.0) without PyTorch.

The model is a 3-layer LSTM (256 units) over 40 mel channels of 16 kHz audio
(25 ms windows, 10 ms steps), then a linear layer, ReLU and L2 norm: a 256-d
voice embedding per 1.6 s window. Its features are a mel power spectrogram,
not a log one, computed as librosa's ``melspectrogram`` does (Slaney mel
scale and norm, periodic Hann window, centred frames) so the weights see what
they were trained on. ``benchmarks/mono.py`` checks the embeddings against
the reference implementation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa_review.core.errors import ModelError

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s: the partial utterance the model was trained on
LAYERS = 3
TARGET_DBFS = -30.0  # Resemblyzer raises quiet audio to this level (never lowers it)


def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = np.log(6.4) / 27.0
    mels = f / f_sp
    return np.where(f >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) triangular filters, Slaney-normalized (librosa.filters.mel's defaults)."""
    freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, freqs)
    weights = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


_FILTERS = mel_filters()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram of 16 kHz audio, one frame every 10 ms."""
    wav = np.asarray(wav, dtype=np.float32)
    padded = np.pad(wav, N_FFT // 2)  # centred frames, zero padding (librosa's default)
    n = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0]), writeable=False
    )
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2
    return (power.astype(np.float32) @ _FILTERS.T).astype(np.float32)


def normalize_volume(wav: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 0:
        return wav
    gain_db = TARGET_DBFS - 20 * np.log10(rms)
    return wav * np.float32(10 ** (gain_db / 20)) if gain_db > 0 else wav


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


class VoiceEncoder:
    """Embeds batches of 1.6 s mel windows; load with :meth:`load` from an installed model folder."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        try:
            self._layers = [
                (
                    np.ascontiguousarray(weights[f"lstm.weight_ih_l{k}"].T, dtype=np.float32),
                    np.ascontiguousarray(weights[f"lstm.weight_hh_l{k}"].T, dtype=np.float32),
                    (weights[f"lstm.bias_ih_l{k}"] + weights[f"lstm.bias_hh_l{k}"]).astype(np.float32),
                )
                for k in range(LAYERS)
            ]
            self._linear_w = np.ascontiguousarray(weights["linear.weight"].T, dtype=np.float32)
            self._linear_b = weights["linear.bias"].astype(np.float32)
        except KeyError as e:
            raise ModelError(f"speaker encoder weights lack {e.args[0]}; install the model again with --force") from e

    @classmethod
    def load(cls, folder: Path) -> VoiceEncoder:
        path = Path(folder) / "encoder.npz"
        if not path.exists():
            raise ModelError(f"{path}: no speaker encoder there; run `qa-review models install voice-encoder`")
        with np.load(path) as z:
            return cls({k: z[k] for k in z.files})

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, 40) mel windows -> (batch, 256) L2-normalized embeddings."""
        x = np.asarray(mels, dtype=np.float32)
        batch, steps, _ = x.shape
        for w_ih, w_hh, bias in self._layers:
            hidden = w_hh.shape[0]
            gates_in = (x.reshape(batch * steps, -1) @ w_ih + bias).reshape(batch, steps, 4 * hidden)
            h = np.zeros((batch, hidden), np.float32)
            c = np.zeros((batch, hidden), np.float32)
            out = np.empty((batch, steps, hidden), np.float32)
            for t in range(steps):
                g = gates_in[:, t] + h @ w_hh
                i, f, cand, o = (g[:, k * hidden : (k + 1) * hidden] for k in range(4))  # PyTorch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cand)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        raw = np.maximum(h @ self._linear_w + self._linear_b, 0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return raw / np.maximum(norms, 1e-9)

    def embed_spans(self, wav: np.ndarray, spans: list[tuple[float, float]], batch: int = 64) -> np.ndarray:
        """One embedding per (start, end) span in seconds of 16 kHz audio.

        Only the span's own frames are used (at most the 1.6 s window, its
        middle for a longer span), put at the window's end after zeros: the
        embedding is the LSTM's last state, so a short "да" is not drowned
        by the other voice around it.
        """
        mels = mel_frames(normalize_volume(np.asarray(wav, dtype=np.float32)))
        windows = np.zeros((len(spans), WINDOW_FRAMES, N_MELS), np.float32)
        for n, (start, end) in enumerate(spans):
            lo, hi = max(int(round(start * 100)), 0), min(int(round(end * 100)), len(mels))
            if hi - lo > WINDOW_FRAMES:
                lo += (hi - lo - WINDOW_FRAMES) // 2
                hi = lo + WINDOW_FRAMES
            if hi > lo:
                windows[n, WINDOW_FRAMES - (hi - lo) :] = mels[lo:hi]
        out = [self.embed(windows[k : k + batch]) for k in range(0, len(windows), batch)]
        return np.concatenate(out) if out else np.zeros((0, 256), np.float32)

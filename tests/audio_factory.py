"""Small audio files made on the fly, for tests that need no real speech."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(
    path: Path, channels: int = 2, seconds: float = 1.0, rate: int = 8000, freqs: tuple[float, ...] = (440.0, 660.0)
) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    chans = [0.3 * np.sin(2 * np.pi * freqs[i % len(freqs)] * t) for i in range(channels)]
    pcm = (np.stack(chans, axis=1) * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def write_turns(path: Path, turns: list[tuple[int, float, float]], seconds: float, rate: int = 8000) -> Path:
    """Stereo WAV with a tone on channel ``ch`` from ``start`` to ``end`` for each turn."""
    data = np.zeros((int(seconds * rate), 2))
    t = np.arange(len(data)) / rate
    for ch, start, end in turns:
        on = (t >= start) & (t < end)
        data[on, ch] = 0.3 * np.sin(2 * np.pi * (300 + 200 * ch) * t[on])
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((data * 32767).astype(np.int16).tobytes())
    return path

"""Reading recordings: checking a file is sound audio, and decoding it.

Decoding goes through PyAV (FFmpeg's libraries, shipped with faster-whisper),
so no ffmpeg binary is needed and no shell is called.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .errors import AudioError

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".ogg", ".opus", ".oga", ".flac", ".m4a"})
ASR_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioInfo:
    channels: int
    sample_rate: int
    duration_s: float
    codec: str


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def probe(path: Path) -> AudioInfo:
    """Decode the whole file once to prove it is readable; return its facts.

    A header alone can look fine on a truncated or damaged file, so every
    frame is decoded; FFmpeg errors become an AudioError naming the file.
    """
    path = Path(path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise AudioError(
            f"{path}: unsupported format {path.suffix or '(no extension)'}; "
            f"expected one of {', '.join(sorted(AUDIO_SUFFIXES))}"
        )
    try:
        size = path.stat().st_size
    except OSError as e:
        raise AudioError(f"{path}: cannot read the file ({e.strerror})") from e
    if size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes); re-export the recording")
    samples = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream in the file")
            stream = container.streams.audio[0]
            channels = stream.codec_context.channels
            rate = stream.codec_context.sample_rate
            codec = stream.codec_context.name
            declared = (
                float(stream.duration * stream.time_base) if stream.duration else None
            )
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate or rate
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError) as e:
        where = f" at {samples / rate:.1f} s" if samples and rate else ""
        raise AudioError(f"{path}: the recording is corrupt or unreadable{where} ({e})") from e
    if samples == 0 or not rate:
        raise AudioError(f"{path}: the file holds no audio samples")
    decoded = samples / rate
    if declared and decoded < 0.9 * declared - 0.5:
        raise AudioError(
            f"{path}: the recording is truncated: its header says {declared:.1f} s, "
            f"only {decoded:.1f} s decode; copy the file again from the recorder"
        )
    if channels not in (1, 2):
        raise AudioError(
            f"{path}: {channels} channels; qa-review takes mono or stereo "
            "(operator and client on separate channels)"
        )
    return AudioInfo(channels=channels, sample_rate=rate, duration_s=decoded, codec=codec)


def decode_channels(path: Path, sampling_rate: int = ASR_SAMPLE_RATE) -> list[np.ndarray]:
    """Float32 mono arrays at ``sampling_rate``: one per channel, left first."""
    try:
        resampler = av.AudioResampler(format="fltp", layout=None, rate=sampling_rate)
        chunks: list[np.ndarray] = []
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise AudioError(f"{path}: cannot decode the recording ({e})") from e
    if not chunks:
        raise AudioError(f"{path}: the file holds no audio samples")
    planar = np.concatenate(chunks, axis=1).astype(np.float32)
    return [planar[i] for i in range(planar.shape[0])]


def write_clip(channels: list[np.ndarray], rate: int, out: Path, bitrate: int = 32000) -> Path:
    """Encode float channels as Ogg/Opus (small, plays in every browser) via PyAV."""
    out = Path(out)
    data = np.clip(np.stack(channels), -1.0, 1.0).astype(np.float32)
    layout = "stereo" if data.shape[0] == 2 else "mono"
    with av.open(str(out), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.bit_rate = bitrate
        stream.layout = layout
        resampler = av.AudioResampler(format="s16", layout=layout, rate=48000)
        frame_len = rate // 50  # 20 ms
        for i in range(0, data.shape[1], frame_len):
            chunk = np.ascontiguousarray(data[:, i:i + frame_len])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    container.mux(packet)
        for f in resampler.resample(None):
            for packet in stream.encode(f):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out


def cut(path: Path, start: float, end: float, bleeps: list[tuple[float, float]] = (),
        rate: int = ASR_SAMPLE_RATE) -> list[np.ndarray]:
    """Channels of ``path`` from ``start`` to ``end`` s, with a 1 kHz tone over each bleep span."""
    channels = decode_channels(path, rate)
    a, b = max(0, int(start * rate)), min(len(channels[0]), int(end * rate))
    if b <= a:
        raise AudioError(f"{path}: the clip {start:.1f}-{end:.1f} s is outside the recording")
    out = [c[a:b].copy() for c in channels]
    t = np.arange(b - a) / rate
    tone = (0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    for s, e in bleeps:
        i, j = max(0, int((s - start) * rate)), min(b - a, int((e - start) * rate))
        if j > i:
            for c in out:
                c[i:j] = tone[i:j]
    return out

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

from qa_review.core.errors import AudioError

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
            declared = float(stream.duration * stream.time_base) if stream.duration else None
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
    cut_short = _cut_short(path, size)
    if cut_short:
        raise AudioError(f"{path}: the recording is truncated: {cut_short}; copy the file again from the recorder")
    decoded = samples / rate
    if declared and decoded < 0.9 * declared - 0.5:
        raise AudioError(
            f"{path}: the recording is truncated: its header says {declared:.1f} s, "
            f"only {decoded:.1f} s decode; copy the file again from the recorder"
        )
    if channels not in (1, 2):
        raise AudioError(
            f"{path}: {channels} channels; qa-review takes mono or stereo (operator and client on separate channels)"
        )
    return AudioInfo(channels=channels, sample_rate=rate, duration_s=decoded, codec=codec)


OGG_SUFFIXES = frozenset({".ogg", ".opus", ".oga"})


def _cut_short(path: Path, size: int) -> str | None:
    """What shows a file was cut short where FFmpeg cannot tell, or None.

    FFmpeg times a WAV by the bytes present and an Ogg by its last page, so
    a cut copy of either decodes cleanly as a shorter call; the container
    says otherwise: a WAV's data chunk declares its length, and an Ogg
    stream's last page carries the end-of-stream flag.
    """
    suffix = path.suffix.lower()
    if suffix == ".wav":
        declared, offset = _wav_data_chunk(path)
        if declared and declared not in (0xFFFFFFFF,) and size - offset < declared - 8:
            return f"its header declares {declared} bytes of audio, the file holds {max(0, size - offset)}"
    elif suffix in OGG_SUFFIXES:
        with open(path, "rb") as f:
            f.seek(max(0, size - 65536))
            tail = f.read()
        last = tail.rfind(b"OggS")
        # byte 5 of a page header holds the flags; 0x04 marks the stream's last page
        if last < 0 or last + 5 >= len(tail) or not tail[last + 5] & 0x04:
            return "the Ogg stream has no end-of-stream page"
    return None


def _wav_data_chunk(path: Path) -> tuple[int | None, int]:
    """(declared size, offset) of a RIFF WAV's data chunk; (None, 0) when it cannot be found."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None, 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None, 0
            size = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                return size, f.tell()
            f.seek(size + (size & 1), 1)  # chunks are padded to even sizes


def _decoded(path: Path, rate: int, start_s: float = 0.0):
    """Planar float32 blocks (channels x samples) at ``rate``, from ``start_s`` on.

    A generator, so a caller holds one block at a time: memory does not grow
    with the recording's length. Starting later seeks in the container
    instead of decoding everything before it.
    """
    resampler = av.AudioResampler(format="fltp", layout=None, rate=rate)
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        skip = 0
        if start_s > 0:
            container.seek(int(start_s / stream.time_base), stream=stream, backward=True, any_frame=False)
        first = True
        for frame in container.decode(stream):
            if first and start_s > 0:
                # a seek lands on a frame at or before start_s: drop the lead-in
                begin = float(frame.pts * stream.time_base) if frame.pts is not None else 0.0
                skip = max(0, int(round((start_s - begin) * rate)))
            first = False
            for out in resampler.resample(frame):
                block = out.to_ndarray()
                if skip:
                    cut = min(skip, block.shape[1])
                    block, skip = block[:, cut:], skip - cut
                if block.shape[1]:
                    yield block
        for out in resampler.resample(None):
            block = out.to_ndarray()
            if skip:
                block = block[:, min(skip, block.shape[1]) :]
            if block.shape[1]:
                yield block


def decode_channels(path: Path, sampling_rate: int = ASR_SAMPLE_RATE) -> list[np.ndarray]:
    """Float32 mono arrays at ``sampling_rate``: one per channel, left first.

    Holds the whole recording: for short clips and tests; long calls go
    through ``iter_windows``.
    """
    try:
        chunks = list(_decoded(Path(path), sampling_rate))
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise AudioError(f"{path}: cannot decode the recording ({e})") from e
    if not chunks:
        raise AudioError(f"{path}: the file holds no audio samples")
    planar = np.concatenate(chunks, axis=1).astype(np.float32)
    return [planar[i] for i in range(planar.shape[0])]


def decode_range(path: Path, start: float, end: float, rate: int = ASR_SAMPLE_RATE) -> list[np.ndarray]:
    """Channels of ``path`` from ``start`` to ``end`` seconds, decoding only that stretch."""
    want = max(0, int(round((end - start) * rate)))
    got: list[np.ndarray] = []
    n = 0
    try:
        for block in _decoded(Path(path), rate, max(0.0, start)):
            got.append(block[:, : want - n])
            n += got[-1].shape[1]
            if n >= want:
                break
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise AudioError(f"{path}: cannot decode the recording ({e})") from e
    if not got or n == 0:
        raise AudioError(f"{path}: the clip {start:.1f}-{end:.1f} s is outside the recording")
    planar = np.concatenate(got, axis=1).astype(np.float32)
    return [planar[i] for i in range(planar.shape[0])]


@dataclass(frozen=True)
class Window:
    """A stretch of a recording to transcribe on its own.

    ``channels`` cover [offset_s, offset_s + length) and include ``overlap``
    of context on each side; words belong to this window when their middle
    lies in [keep_from, keep_to) (absolute seconds), so the overlap's words
    are counted once.
    """

    offset_s: float
    channels: list
    keep_from: float
    keep_to: float

    @property
    def length_s(self) -> float:
        return len(self.channels[0]) / ASR_SAMPLE_RATE


def quietest(block: np.ndarray, rate: int, lo: int, hi: int) -> int:
    """Sample index in [lo, hi) at the middle of the quietest 100 ms on every channel."""
    n = rate // 10
    seg = block[:, lo:hi]
    frames = seg.shape[1] // n
    if frames < 1:
        return hi
    e = np.max(np.mean(seg[:, : frames * n].reshape(seg.shape[0], frames, n) ** 2, axis=2), axis=0)
    return lo + int(np.argmin(e)) * n + n // 2


def iter_windows(
    path: Path, rate: int = ASR_SAMPLE_RATE, window_s: float = 240.0, search_s: float = 20.0, overlap_s: float = 1.0
):
    """Windows of about ``window_s``, cut at the quietest moment near each boundary.

    Cutting where both channels are quiet keeps utterances whole; the small
    overlap gives the recognizer context at the edges. Only one window and
    the lookahead it needs are decoded at a time.
    """
    size = max(rate, int(window_s * rate))
    search, ov = min(int(search_s * rate), size // 2), int(overlap_s * rate)
    buf: np.ndarray | None = None
    pending: list[np.ndarray] = []
    pending_n = 0
    start = 0  # absolute sample index of buf[:, 0]
    keep = 0  # absolute sample where the next window's own part begins
    try:
        for block in _decoded(Path(path), rate):
            pending.append(block)
            pending_n += block.shape[1]
            have = (0 if buf is None else buf.shape[1]) + pending_n
            if have - (keep - start) < size + search:
                continue
            buf = np.concatenate(([buf] if buf is not None else []) + pending, axis=1)
            pending, pending_n = [], 0
            while buf.shape[1] - (keep - start) >= size + search:
                rel = keep - start
                cut = quietest(buf, rate, rel + size - search, rel + size + search)
                a, b = max(0, rel - ov), min(buf.shape[1], cut + ov)
                yield Window((start + a) / rate, [c.copy() for c in buf[:, a:b]], keep / rate, (start + cut) / rate)
                keep = start + cut
                drop = max(0, keep - start - ov)
                buf, start = buf[:, drop:], start + drop
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise AudioError(f"{path}: cannot decode the recording ({e})") from e
    if pending:
        buf = np.concatenate(([buf] if buf is not None else []) + pending, axis=1)
    if buf is None:
        raise AudioError(f"{path}: the file holds no audio samples")
    rel = max(0, keep - start - ov)
    yield Window((start + rel) / rate, [c.copy() for c in buf[:, rel:]], keep / rate, float("inf"))


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
            chunk = np.ascontiguousarray(data[:, i : i + frame_len])
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


def cut(
    path: Path, start: float, end: float, bleeps: list[tuple[float, float]] = (), rate: int = ASR_SAMPLE_RATE
) -> list[np.ndarray]:
    """Channels of ``path`` from ``start`` to ``end`` s, with a 1 kHz tone over each bleep span."""
    if end <= start:
        raise AudioError(f"{path}: the clip {start:.1f}-{end:.1f} s is empty")
    out = decode_range(path, start, end, rate)
    n = len(out[0])
    t = np.arange(n) / rate
    tone = (0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    for s, e in bleeps:
        i, j = max(0, int((s - start) * rate)), min(n, int((e - start) * rate))
        if j > i:
            for c in out:
                c[i:j] = tone[i:j]
    return out

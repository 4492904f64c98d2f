"""Render the demo scripts as telephone calls under many conditions.

    .venv/bin/python benchmarks/conditions.py [--out benchmarks/.cache/robust]

Needs Debian's festival, festvox-ru, espeak-ng, sox and ffmpeg (`make
bench-tools`). Nothing here is committed output: the corpus is generated at
benchmark time into a git-ignored cache, and every random choice comes from
a fixed seed, so two machines render the same corpus.

Each (script, condition) becomes an 8 kHz stereo WAV (operator left, client
right) plus a reference JSON with every line's speaker, time and text. The
conditions are what a clinic's recordings meet and the demo corpus never
had: channel levels, background noise, telephone codecs, packet loss, echo,
clipping, and several voices (festival's Russian voice with pitch and tempo
shifts, espeak-ng's Russian with different variants).

The split that keeps the benchmark honest is made here too: half of the
scripts and half of every condition family are for tuning, the other halves
are held out, and a figure worth reporting comes from the held-out half.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "demo"))
from scripts import CALLS  # noqa: E402

RATE = 16000
SEED = 20261123
CACHE = ROOT / "benchmarks" / ".cache"

# name -> how to speak a line. Festival's clunits voice is the demo's; the
# shifted copies and espeak-ng's formant voices sound like other people and
# stress the recognizer differently. espeak-ng's female variants (f1-f5,
# klatt) were left out: Whisper base gets 0.75-1.25 WER on them even clean
# and at 16 kHz, so they would measure the synthesizer, not the line; its
# male variants at 140 words a minute get 0.36-0.39 clean, still the
# hardest voices here.
VOICES = {
    "fest": ("festival", None),
    "fest-high": ("festival", ["pitch", "350", "tempo", "1.08"]),
    "fest-low": ("festival", ["pitch", "-250", "tempo", "0.93"]),
    "espeak-m1": ("espeak", ["ru+m1", "-s", "140"]),
    "espeak-m4": ("espeak", ["ru+m4", "-s", "140"]),
}
# Line and noise conditions draw both speakers from festival's variants, so
# their figures measure the condition; espeak-ng's voices are a condition
# family of their own ("voice"): over an 8 kHz line Whisper base loses most
# of their words even without noise, and mixed into every condition they
# would decide every figure.
DRAWN_VOICES = ("fest", "fest-high", "fest-low")


@dataclass(frozen=True)
class Condition:
    name: str
    family: str
    params: dict


def _conditions() -> list[Condition]:
    c = [Condition("clean", "clean", {})]
    c += [Condition(f"level{d}", "level", {"level_db": d}) for d in (-35, -25, -15)]
    c += [
        Condition("quiet-client", "level", {"level_db": -18, "client_db": -20}),
        Condition("quiet-operator", "level", {"level_db": -18, "operator_db": -20}),
    ]
    for kind in ("babble", "street", "hum"):
        c += [Condition(f"{kind}{snr}", "noise", {"noise": kind, "snr": snr}) for snr in (20, 10, 5)]
    c += [Condition(n, "codec", {"codec": n}) for n in ("alaw", "ulaw", "gsm", "opus8", "mp3-16", "amr")]
    c += [Condition(f"loss{p}", "loss", {"loss": p / 100}) for p in (2, 3, 4, 5)]
    c += [
        Condition("echo20-short", "echo", {"echo_db": -20, "delay_ms": 40}),
        Condition("echo20-long", "echo", {"echo_db": -20, "delay_ms": 180}),
    ]
    c += [Condition("clip12", "clip", {"overdrive_db": 12}), Condition("clip20", "clip", {"overdrive_db": 20})]
    c += [Condition(f"voice-{v}", "voice", {"client_voice": v}) for v in ("espeak-m1", "espeak-m4")]
    return c


CONDITIONS = _conditions()


def split() -> dict[str, tuple[set[str], set[str]]]:
    """{'scripts': (tune, held_out), 'conditions': (tune, held_out)}, from SEED.

    Every family gives half its members to each side (clean goes to both:
    it is the reference point, not a condition to tune on).
    """
    rng = random.Random(SEED)
    ids = sorted(c["call_id"] for c in CALLS)
    rng.shuffle(ids)
    scripts = (set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :]))
    families: dict[str, list[str]] = {}
    for cond in CONDITIONS:
        families.setdefault(cond.family, []).append(cond.name)
    tune, held = {"clean"}, {"clean"}
    for fam, names in sorted(families.items()):
        if fam == "clean":
            continue
        names = sorted(names)
        rng.shuffle(names)
        tune.update(names[: len(names) // 2])
        held.update(names[len(names) // 2 :])
    return {"scripts": scripts, "conditions": (tune, held)}


def items(part: str) -> list[tuple[str, str]]:
    """(call_id, condition) pairs of one side: 'tune' or 'held_out'."""
    s = split()
    i = 0 if part == "tune" else 1
    return [(cid, cond) for cond in sorted(s["conditions"][i]) for cid in sorted(s["scripts"][i])]


def voices_for(call_id: str, condition: str) -> tuple[str, str]:
    """Operator and client voices: two different voices, fixed per pair."""
    seed = int(hashlib.sha256(f"{SEED}/{call_id}/{condition}".encode()).hexdigest()[:8], 16)
    op, cl = random.Random(seed).sample(DRAWN_VOICES, 2)
    forced = next((c.params.get("client_voice") for c in CONDITIONS if c.name == condition), None)
    return op, forced or cl


# --- speech --------------------------------------------------------------------


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        if w.getnchannels() > 1:
            pcm = pcm.reshape(-1, w.getnchannels()).T
        return pcm, w.getframerate()


def _write_wav(path: Path, channels: list[np.ndarray], rate: int) -> None:
    data = np.stack(channels, axis=1)
    pcm = (np.clip(data, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()[-500:]}")


def speak(voice: str, text: str, cache: Path) -> np.ndarray:
    """One line in one voice, 16 kHz float, trimmed of leading/trailing silence."""
    key = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:20]
    out = cache / "lines" / f"{key}.wav"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        engine, args = VOICES[voice]
        with tempfile.TemporaryDirectory() as tmp_s:
            tmp = Path(tmp_s)
            raw = tmp / "raw.wav"
            if engine == "festival":
                (tmp / "line.txt").write_text(text, encoding="utf-8")
                _run(["text2wave", "-eval", "(voice_msu_ru_nsh_clunits)", str(tmp / "line.txt"), "-o", str(raw)])
            else:
                _run(["espeak-ng", "-v", args[0], *args[1:], "-w", str(raw), text])
                args = None
            _run(["sox", str(raw), "-r", str(RATE), "-c", "1", str(tmp / "x.wav"), *(args or [])])
            (tmp / "x.wav").rename(out)
    pcm, rate = _read_wav(out)
    assert rate == RATE
    loud = np.flatnonzero(np.abs(pcm) > 0.02)
    return pcm[loud[0] : loud[-1] + 1] if loud.size else pcm


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def _db(x: float) -> float:
    return 10 ** (x / 20)


def render_dialogue(call: dict, voices: tuple[str, str], cache: Path) -> tuple[dict, list[dict]]:
    """Each speaker on a channel of their own, speech at -20 dBFS RMS; references."""
    lines = []
    t = 0.4
    refs = []
    for speaker, text, pause in call["lines"]:
        pcm = speak(voices[0] if speaker == "operator" else voices[1], text, cache)
        pcm = pcm * (_db(-20) / max(_rms(pcm), 1e-6))
        start = max(0.0, t + pause)
        lines.append((speaker, int(start * RATE), pcm))
        end = start + len(pcm) / RATE
        refs.append({"speaker": speaker, "start": round(start, 2), "end": round(end, 2), "text": text})
        t = end
    total = int((t + 0.8) * RATE)
    chans = {"operator": np.zeros(total, np.float32), "client": np.zeros(total, np.float32)}
    for speaker, at, pcm in lines:
        chans[speaker][at : at + len(pcm)] += pcm
    return chans, refs


# --- conditions ------------------------------------------------------------------


def _band(x: np.ndarray, lo: float = 300, hi: float = 3400) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / RATE)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, len(x)).astype(np.float32)


def _noise(kind: str, n: int, rng: np.random.Generator, cache: Path) -> np.ndarray:
    if kind == "hum":
        # mains buzz: 50 Hz with strong odd harmonics, the kind a bad earth gives
        t = np.arange(n) / RATE
        x = sum((1 / k) * np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.28)) for k in range(1, 40, 2))
        return _band(np.asarray(x, np.float32))
    if kind == "street":
        # traffic: brown-ish rumble with cars passing (slow swells) and white hiss
        white = rng.normal(0, 1, n)
        brown = np.cumsum(white)
        brown -= np.convolve(brown, np.ones(4001) / 4001, mode="same")
        swell = 1 + 0.8 * np.sin(2 * np.pi * np.arange(n) / RATE / rng.uniform(4, 9))
        return _band((brown / (np.std(brown) + 1e-9) * swell + 0.3 * white).astype(np.float32))
    # babble: six other voices talking over each other, none of them intelligible
    other = [c for c in CALLS]
    x = np.zeros(n, np.float32)
    for _ in range(6):
        call = other[int(rng.integers(len(other)))]
        voice = sorted(VOICES)[int(rng.integers(len(VOICES)))]
        pos = 0
        while pos < n:
            line = call["lines"][int(rng.integers(len(call["lines"])))][1]
            pcm = speak(voice, line, cache)
            take = min(len(pcm), n - pos)
            x[pos : pos + take] += pcm[:take] / (_rms(pcm) + 1e-6)
            pos += take + int(rng.integers(0, RATE // 4))
    return _band(x)


def _add_noise(ch: np.ndarray, kind: str, snr: float, rng, cache: Path) -> np.ndarray:
    speech = ch[np.abs(ch) > 0.01]
    level = _rms(speech) if speech.size else _db(-20)
    noise = _noise(kind, len(ch), rng, cache)
    return ch + noise * (level / (_rms(noise) + 1e-9)) * _db(-snr)


def apply(cond: Condition, chans: dict, rng: np.random.Generator, cache: Path) -> list[np.ndarray]:
    """Both channels at 16 kHz with the condition's effects, before the phone line."""
    p = cond.params
    op, cl = chans["operator"].copy(), chans["client"].copy()
    level = p.get("level_db", -20)
    op *= _db(level + 20 + p.get("operator_db", 0))
    cl *= _db(level + 20 + p.get("client_db", 0))
    if "noise" in p:
        op = _add_noise(op, p["noise"], p["snr"], rng, cache)
        cl = _add_noise(cl, p["noise"], p["snr"], rng, cache)
    if "echo_db" in p:
        d = int(p["delay_ms"] * RATE / 1000)
        g = _db(p["echo_db"])
        op, cl = (
            op + g * np.concatenate([np.zeros(d, np.float32), cl[:-d]]),
            cl + g * np.concatenate([np.zeros(d, np.float32), op[:-d]]),
        )
    if "overdrive_db" in p:
        g = _db(p["overdrive_db"]) * _db(-6 + 20)  # speech at -6 dBFS RMS, then driven into the rail
        op, cl = np.clip(op * g, -1, 1), np.clip(cl * g, -1, 1)
    # a line's hiss, so digital silence never reaches the recognizer
    op = op + rng.normal(0, 0.0015, len(op)).astype(np.float32)
    cl = cl + rng.normal(0, 0.0015, len(cl)).astype(np.float32)
    return [op.astype(np.float32), cl.astype(np.float32)]


CODEC_ARGS = {  # ffmpeg encoders; AMR-NB only sox can encode here
    "alaw": ("wav", ["-c:a", "pcm_alaw"]),
    "ulaw": ("wav", ["-c:a", "pcm_mulaw"]),
    "gsm": ("wav", ["-c:a", "libgsm_ms"]),
    "opus8": ("ogg", ["-c:a", "libopus", "-b:a", "8k", "-application", "voip"]),
    "mp3-16": ("mp3", ["-c:a", "libmp3lame", "-b:a", "16k"]),
}


def _codec_roundtrip(src: Path, codec: str, tmp: Path) -> Path:
    """Encode each channel with the codec and decode back to 8 kHz PCM."""
    out = tmp / "decoded.wav"
    if codec == "amr":
        parts = []
        for i in (1, 2):
            amr, back = tmp / f"c{i}.amr-nb", tmp / f"c{i}.wav"
            _run(["sox", str(src), "-c", "1", str(amr), "remix", str(i)])
            _run(["sox", str(amr), "-r", "8000", str(back)])
            parts.append(str(back))
        _run(["sox", "-M", *parts, str(out)])
        return out
    ext, args = CODEC_ARGS[codec]
    enc = tmp / f"enc.{ext}"
    # GSM 06.10 is mono only; Opus at 8 kbit/s folds a stereo stream into
    # one channel (both sides then decode identical, and the call reads as
    # mono). Each telephone leg is its own mono stream anyway.
    if codec in ("gsm", "opus8"):
        parts = []
        for i in (0, 1):
            e, b = tmp / f"g{i}.{ext}", tmp / f"gb{i}.wav"
            _run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-af", f"pan=mono|c0=c{i}", *args, str(e)])
            _run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(e), "-c:a", "pcm_s16le", "-ar", "8000", str(b)])
            parts.append(str(b))
        _run(["sox", "-M", *parts, str(out)])
        return out
    _run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), *args, str(enc)])
    _run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(enc), "-c:a", "pcm_s16le", "-ar", "8000", str(out)])
    return out


def _packet_loss(channels: list[np.ndarray], rate: int, p: float, rng) -> list[np.ndarray]:
    """Drop 20 ms packets (silence, no concealment), in short bursts as networks do."""
    frame = rate // 50
    out = [c.copy() for c in channels]
    n = len(out[0]) // frame
    lost = np.zeros(n, bool)
    i = 0
    while i < n:
        if rng.random() < p / 2:  # mean burst of 2 packets
            burst = 1 + int(rng.integers(0, 3))
            lost[i : i + burst] = True
            i += burst
        i += 1
    for k in np.flatnonzero(lost):
        for c in out:
            c[k * frame : (k + 1) * frame] = 0
    return out


def render(out_dir: Path, which: list[tuple[str, str]] | None = None, say=print) -> Path:
    """Render every (script, condition) (or ``which``) into ``out_dir``; skips what exists."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_id = {c["call_id"]: c for c in CALLS}
    conds = {c.name: c for c in CONDITIONS}
    todo = which or [(cid, c.name) for c in CONDITIONS for cid in sorted(by_id)]
    for n, (cid, cname) in enumerate(todo, 1):
        wav, ref = out_dir / cname / f"{cid}.wav", out_dir / cname / f"{cid}.json"
        if wav.exists() and ref.exists():
            continue
        wav.parent.mkdir(parents=True, exist_ok=True)
        voices = voices_for(cid, cname)
        chans, refs = render_dialogue(by_id[cid], voices, CACHE)
        seed = int(hashlib.sha256(f"{SEED}/{cid}/{cname}/fx".encode()).hexdigest()[:8], 16)
        rng = np.random.default_rng(seed)
        cond = conds[cname]
        channels = apply(cond, chans, rng, CACHE)
        with tempfile.TemporaryDirectory() as tmp_s:
            tmp = Path(tmp_s)
            raw, line = tmp / "raw.wav", tmp / "line.wav"
            _write_wav(raw, channels, RATE)
            # the telephone line: 300-3400 Hz, 8 kHz
            _run(["sox", str(raw), "-r", "8000", str(line), "sinc", "300-3400"])
            if "codec" in cond.params:
                line = _codec_roundtrip(line, cond.params["codec"], tmp)
            if "loss" in cond.params:
                data, rate = _read_wav(line)
                _write_wav(line, _packet_loss(list(data), rate, cond.params["loss"], rng), rate)
            line.replace(wav)
        ref.write_text(
            json.dumps(
                {"call_id": cid, "condition": cname, "voices": list(voices), "mono": False, "segments": refs},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        say(f"[{n}/{len(todo)}] {cname}/{cid} ({voices[0]} / {voices[1]})")
    return out_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=CACHE / "robust")
    ap.add_argument("--part", choices=["tune", "held_out", "all"], default="all")
    args = ap.parse_args()
    which = None if args.part == "all" else items(args.part)
    render(args.out, which)
    s = split()
    print(f"tune scripts: {sorted(s['scripts'][0])}\nheld-out scripts: {sorted(s['scripts'][1])}")
    print(f"tune conditions: {sorted(s['conditions'][0])}\nheld-out conditions: {sorted(s['conditions'][1])}")


if __name__ == "__main__":
    main()

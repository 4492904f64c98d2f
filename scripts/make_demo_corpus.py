"""Synthesize the demo corpus: telephone-like Russian clinic calls.

Needs Debian's festival + festvox-ru, sox and ffmpeg (only to regenerate;
the generated files are committed). Run from the repository root:

    python scripts/make_demo_corpus.py

Each line of demo/scripts.py is spoken by festival's Russian voice, placed
on a timeline (operator left, client right), band-limited to 300-3400 Hz,
resampled to 8 kHz with a little line noise and cross-talk, and encoded as
the format the script names. Reference transcripts (speaker, start, end,
text) and a manifest are written beside the audio.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "demo"))
from scripts import CALLS, CHATS  # noqa: E402

RATE = 16000
VOICE = "(voice_msu_ru_nsh_clunits)"
LEAD_S = 0.4


def speak(text: str, tmp: Path) -> np.ndarray:
    src, out = tmp / "line.txt", tmp / "line.wav"
    src.write_text(text, encoding="utf-8")
    subprocess.run(["text2wave", "-eval", VOICE, str(src), "-o", str(out)], check=True, capture_output=True)
    with wave.open(str(out)) as w:
        assert w.getframerate() == RATE, w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    loud = np.flatnonzero(np.abs(pcm) > 0.02)
    return pcm[loud[0] : loud[-1] + 1] if loud.size else pcm


def write_wav(path: Path, channels: list[np.ndarray]) -> None:
    data = np.stack(channels, axis=1) if len(channels) > 1 else channels[0][:, None]
    pcm = (np.clip(data, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


ENCODE = {
    "ogg": ["-c:a", "libopus", "-b:a", "20k", "-application", "voip"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"],
    "flac": ["-c:a", "flac"],
    "wav": ["-c:a", "pcm_s16le"],
}


def build_call(call: dict, tmp: Path, rng: np.random.Generator) -> tuple[list[np.ndarray], list[dict]]:
    placed, refs = [], []
    t = LEAD_S
    for speaker, text, pause in call["lines"]:
        pcm = speak(text, tmp)
        start = max(0.0, t + pause)
        placed.append((speaker, int(start * RATE), pcm))
        end = start + len(pcm) / RATE
        refs.append({"speaker": speaker, "start": round(start, 2), "end": round(end, 2), "text": text})
        t = end
    total = int((t + 0.8) * RATE)
    chans = {"operator": np.zeros(total, np.float32), "client": np.zeros(total, np.float32)}
    for speaker, at, pcm in placed:
        chans[speaker][at : at + len(pcm)] += pcm * 0.7
    left, right = chans["operator"], chans["client"]
    # A real line leaks a little of each side into the other and hisses.
    left, right = left + 0.02 * right, right + 0.02 * left
    noise = lambda: rng.normal(0, 0.002, total).astype(np.float32)  # noqa: E731
    if call.get("mono"):
        return [left + right + noise()], refs
    return [left + noise(), right + noise()], refs


def main() -> None:
    rng = np.random.default_rng(20261123)
    calls_dir, ref_dir, chats_dir = ROOT / "demo/calls", ROOT / "demo/reference", ROOT / "demo/chats"
    for d in (calls_dir, ref_dir, chats_dir):
        d.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        for call in CALLS:
            channels, refs = build_call(call, tmp, rng)
            raw, shaped = tmp / "raw.wav", tmp / "shaped.wav"
            write_wav(raw, channels)
            subprocess.run(
                ["sox", str(raw), "-r", "8000", str(shaped), "sinc", "300-3400"], check=True, capture_output=True
            )
            name = f"{call['call_id']}.{call['format']}"
            out = calls_dir / name
            subprocess.run(
                [
                    "ffmpeg",
                    "-loglevel",
                    "error",
                    "-y",
                    "-i",
                    str(shaped),
                    *ENCODE[call["format"]],
                    "-map_metadata",
                    "-1",
                    str(out),
                ],
                check=True,
            )
            duration = round(len(channels[0]) / RATE, 2)
            (ref_dir / f"{call['call_id']}.json").write_text(
                json.dumps(
                    {
                        "call_id": call["call_id"],
                        "mono": bool(call.get("mono")),
                        "duration_s": duration,
                        "segments": refs,
                    },
                    ensure_ascii=False,
                    indent=1,
                ),
                encoding="utf-8",
            )
            rows.append(
                {
                    "file": name,
                    "call_id": call["call_id"],
                    "operator": call["operator"],
                    "started_at": call["started_at"],
                    "direction": call["direction"],
                    "phone": call["phone"],
                    "queue": call["queue"],
                    "tags": call["tags"],
                }
            )
            print(f"{name}: {duration:.1f} s, {out.stat().st_size // 1024} KiB")
    with open(ROOT / "demo/manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for chat in CHATS:
        doc = {k: v for k, v in chat.items() if k != "messages"}
        doc["messages"] = [{"speaker": s, "at": at, "text": text} for s, at, text in chat["messages"]]
        (chats_dir / f"{chat['conversation_id']}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()

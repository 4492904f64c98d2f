"""ASR on the demo corpus: WER per speaker, real-time factor, peak memory.

    .venv/bin/python benchmarks/asr.py [--model base] [--configs shipped,fw-defaults,...]

Each configuration runs in its own process, so its peak memory (max RSS)
is its own. WER uses qa_review.wer's Russian normalization and is summed over
the corpus (errors / reference words), per speaker; mono calls count under
"mixed". The VAD table shows how much of the reference speech each Silero
VAD setting keeps on these 8 kHz telephone channels.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.asr_models import resolve  # noqa: E402
from qa_review.audio import decode_channels  # noqa: E402
from qa_review.transcribe import AsrOptions, FasterWhisperTranscriber, transcribe_call  # noqa: E402
from qa_review.wer import wer  # noqa: E402

DEMO = ROOT / "demo"
SHIPPED = AsrOptions()
CONFIGS = {
    "shipped": SHIPPED,
    # faster-whisper's own defaults, as a user calling transcribe() would get them
    "fw-defaults": AsrOptions(
        vad_filter=True, vad_threshold=0.5, vad_min_silence_ms=2000, vad_speech_pad_ms=400,
        condition_on_previous_text=True, hallucination_silence_threshold=None,
    ),
    "no-vad": replace(SHIPPED, vad_filter=False),
    "vad-0.3": replace(SHIPPED, vad_threshold=0.3, vad_min_silence_ms=700),
    "greedy": replace(SHIPPED, beam_size=1),
}


def calls():
    out = []
    for ref_file in sorted((DEMO / "reference").glob("*.json")):
        ref = json.loads(ref_file.read_text(encoding="utf-8"))
        audio = next((DEMO / "calls").glob(ref["call_id"] + ".*"))
        out.append((ref, audio))
    return out


def run_config(name: str, model: str, queue, configs=None) -> None:
    opts = (configs or CONFIGS)[name]
    t_load = time.perf_counter()
    tr = FasterWhisperTranscriber(model, options=opts, model_name="bench")
    load_s = time.perf_counter() - t_load
    totals: dict[str, list[int]] = {}
    audio_s = asr_s = 0.0
    for ref, path in calls():
        t0 = time.perf_counter()
        t = transcribe_call(ref["call_id"], path, tr, ("operator", "client"))
        asr_s += time.perf_counter() - t0
        audio_s += t.duration_s
        speakers = ["mixed"] if ref["mono"] else ["operator", "client"]
        for sp in speakers:
            ref_text = " ".join(s["text"] for s in ref["segments"] if sp == "mixed" or s["speaker"] == sp)
            r = wer(ref_text, t.text_of(sp))
            acc = totals.setdefault(sp, [0, 0])
            acc[0] += r.substitutions + r.deletions + r.insertions
            acc[1] += r.reference_words
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({
        "config": name,
        "wer": {sp: e / n for sp, (e, n) in totals.items()},
        "rtf": asr_s / audio_s,
        "audio_min": audio_s / 60,
        "asr_s": asr_s,
        "load_s": load_s,
        "peak_mb": peak_mb,
    })


def vad_recall() -> list[tuple[str, float, float]]:
    """Share of reference speech time each VAD setting keeps, and of silence it drops."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    settings = {
        "default = shipped (0.5, 2000 ms)": VadOptions(),
        "sensitive (0.3, 700 ms)": VadOptions(threshold=0.3, min_silence_duration_ms=700),
    }
    rows = []
    for label, opts in settings.items():
        kept = speech = dropped_sil = silence = 0.0
        for ref, path in calls():
            if ref["mono"]:
                continue
            for ch, sp in zip(decode_channels(path), ("operator", "client")):
                spans = [(s["start"], s["end"]) for s in ref["segments"] if s["speaker"] == sp]
                found = [(d["start"] / 16000, d["end"] / 16000) for d in get_speech_timestamps(ch, opts)]
                total = len(ch) / 16000
                sp_time = sum(e - s for s, e in spans)
                overlap = sum(max(0.0, min(e, fe) - max(s, fs)) for s, e in spans for fs, fe in found)
                kept += overlap
                speech += sp_time
                found_time = sum(e - s for s, e in found)
                silence += total - sp_time
                dropped_sil += (total - sp_time) - (found_time - overlap)
        rows.append((label, kept / speech, dropped_sil / silence))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="base")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    args = ap.parse_args()
    model = resolve(args.model, ROOT / "models")
    names = args.configs.split(",")
    audio_min = None

    print("VAD on telephone channels (demo corpus, stereo calls)")
    print(f"{'setting':<32} {'speech kept':>12} {'silence dropped':>16}")
    for label, kept, dropped in vad_recall():
        print(f"{label:<32} {kept:>12.1%} {dropped:>16.1%}")
    print()

    ctx = mp.get_context("spawn")
    results = []
    for name in names:
        q = ctx.Queue()
        p = ctx.Process(target=run_config, args=(name, model, q))
        p.start()
        results.append(q.get())
        p.join()
        audio_min = results[-1]["audio_min"]
    print(f"ASR, model {args.model}, int8, {mp.cpu_count()} CPU cores, {audio_min:.1f} min of audio "
          f"({len(calls())} calls)")
    print(f"{'config':<12} {'WER op':>7} {'WER cl':>7} {'WER mono':>9} {'RTF':>6} {'calls/h':>8} {'peak MB':>8}")
    for r in results:
        calls_per_h = 3600 / (r["asr_s"] / len(calls()))
        print(f"{r['config']:<12} {r['wer'].get('operator', 0):>7.3f} {r['wer'].get('client', 0):>7.3f} "
              f"{r['wer'].get('mixed', 0):>9.3f} {r['rtf']:>6.3f} {calls_per_h:>8.0f} {r['peak_mb']:>8.0f}")
    print("\nRTF = processing time / audio duration (both channels of a stereo call count once); "
          "calls/h at the corpus's mean call length, one worker.")


if __name__ == "__main__":
    main()

"""Mono calls: who said what, measured against the truth that mixing stereo down gives for free.

    .venv/bin/python benchmarks/mono.py tune     [--jobs 2] [--conditions clean,gsm]
    .venv/bin/python benchmarks/mono.py held_out [--jobs 2]

Each two-voice stereo call of the robustness corpus (`benchmarks/conditions.py`:
operator and client in different voices, under line, noise and codec
conditions) is mixed down to one channel and run through the production
path: `transcribe_call` with the speaker encoder, then `core.roles.assign`
with the call's direction and the shipped checklists' phrases. The same call
in stereo is the comparison. Reported, per condition and overall:

- word role accuracy: each recognized word's role against the reference
  line whose time holds it (roles, not voices: a call whose roles came out
  swapped counts every word wrong); and voice accuracy (up to the swap);
- the share of words left ``mixed`` (one voice heard), calls with the roles
  the right way round, and of the calls trusted (confidence at or above
  --min-confidence) how many had them right: the number that matters, since
  the others go to a person;
- WER per recovered role: the operator's reference words against the words
  labelled operator (and the client's), beside the stereo channel's WER;
- checklist agreement with the hand-written ground truth (demo/ground_truth.yaml),
  mono against stereo, and how many verdicts the mono calls sent to review;
- the time diarization adds (embeddings, clustering, roles) per second of audio.

Results are cached per (call, condition) under benchmarks/.cache/mono; delete
it after changing the pipeline. Tune on `tune`; report `held_out`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "demo"))

import conditions  # noqa: E402

from qa_review.asr.audio import decode_channels  # noqa: E402
from qa_review.asr.diarize import Diarizer  # noqa: E402
from qa_review.asr.models import resolve  # noqa: E402
from qa_review.asr.transcribe import AsrOptions, FasterWhisperTranscriber, transcribe_call  # noqa: E402
from qa_review.core import diarization, roles  # noqa: E402
from qa_review.core.agreement import compare  # noqa: E402
from qa_review.core.domain import CLIENT, MIXED, OPERATOR, Segment, Transcript, Word  # noqa: E402
from qa_review.core.scoring import score  # noqa: E402
from qa_review.core.turns import activity  # noqa: E402
from qa_review.core.wer import wer  # noqa: E402
from qa_review.services.catalog import load_checklists  # noqa: E402
from scripts import CALLS, SPOKEN_NAMES  # noqa: E402

CORPUS = ROOT / "benchmarks" / ".cache" / "robust"
CACHE = ROOT / "benchmarks" / ".cache" / "mono"
CLINIC = "Клиника Здоровье"
META = {c["call_id"]: c for c in CALLS}


def _mix_down(stereo: Path, out: Path) -> float:
    """Both channels summed into one, as a PBX recording one line does; returns the duration."""
    with wave.open(str(stereo)) as w:
        rate, n = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32).reshape(-1, n)
    mono = np.clip(x.sum(axis=1), -32768, 32767).astype(np.int16)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(mono.tobytes())
    return len(mono) / rate


def _checklists():
    return {lc.checklist.id: lc.checklist for lc in load_checklists(ROOT / "checklists")[0]}


def _applying(call_id: str):
    meta = META[call_id]
    return [c for c in _checklists().values() if c.applies("phone", meta.get("direction"))]


def run_item(tr, cond: str, cid: str) -> dict:
    """The ASR part, cached: the mixed-down call as one channel, and the stereo call."""
    with tempfile.TemporaryDirectory() as tmp:
        mono_path = Path(tmp) / f"{cid}.wav"
        audio_s = _mix_down(CORPUS / cond / f"{cid}.wav", mono_path)
        t0 = time.perf_counter()
        mono = transcribe_call(cid, mono_path, tr, (OPERATOR, CLIENT))
        mono_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    stereo = transcribe_call(cid, CORPUS / cond / f"{cid}.wav", tr, (OPERATOR, CLIENT))
    return {
        "condition": cond,
        "call_id": cid,
        "audio_s": audio_s,
        "mono_s": mono_s,
        "stereo_s": time.perf_counter() - t0,
        "duration_s": mono.duration_s,
        "mono": [s.to_dict() for s in mono.segments],
        "stereo": [s.to_dict() for s in stereo.segments],
    }


def _worker(todo, jobs: int, queue) -> None:
    threads = max(1, (os.cpu_count() or 1) // jobs)
    tr = FasterWhisperTranscriber(resolve("base", ROOT / "models"), options=AsrOptions(), cpu_threads=threads)
    for cond, cid in todo:
        res = run_item(tr, cond, cid)
        out = CACHE / cond / f"{cid}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, ensure_ascii=False))
        queue.put(1)
    queue.put(("done", None))


def diarize(diarizer: Diarizer, res: dict) -> tuple[Transcript, float]:
    """The production diarization and roles on the cached words; (transcript, seconds it took)."""
    cid = res["call_id"]
    meta = META[cid]
    with tempfile.TemporaryDirectory() as tmp:
        mono_path = Path(tmp) / f"{cid}.wav"
        _mix_down(CORPUS / res["condition"] / f"{cid}.wav", mono_path)
        (audio,) = decode_channels(mono_path, 16000)
    # the cached words, whatever labels an older run gave them
    words = sorted((Word(**w) for s in res["mono"] for w in s["words"]), key=lambda w: w.start)
    if not words:  # the recognizer heard nothing in the mix
        return Transcript(cid, (), (), res["duration_s"]), 0.0
    mixed = Transcript(cid, (Segment(MIXED, words[0].start, words[-1].end, "", tuple(words)),), (), res["duration_s"])
    t0 = time.perf_counter()
    spans, emb = diarizer.embed(audio, words)
    voices = diarization.split_transcript(mixed, spans, emb)
    variables = {"clinic": CLINIC, "operator_name": SPOKEN_NAMES.get(meta["operator"], "")}
    op, cl = roles.role_phrases(_applying(cid), variables)
    t = roles.assign(voices, direction=meta.get("direction"), operator_phrases=op, client_phrases=cl)
    return t, time.perf_counter() - t0


def _truth_of(ref: dict, t: float) -> str:
    inside = [s for s in ref["segments"] if s["start"] - 0.3 <= t <= s["end"] + 0.3]
    pool = inside or ref["segments"]
    return min(pool, key=lambda s: 0 if s["start"] <= t <= s["end"] else min(abs(t - s["start"]), abs(t - s["end"])))[
        "speaker"
    ]


def _stereo(res: dict) -> Transcript:
    segs = tuple(Segment.from_dict(s) for s in res["stereo"])
    acts = []
    for sp in {s.speaker for s in segs}:
        acts += activity(sp, [w for s in segs if s.speaker == sp for w in s.words])
    return Transcript(res["call_id"], segs, tuple(sorted(acts, key=lambda a: a.start)), res["duration_s"])


COUNTS = ("words", "mixed", "trusted", "trusted_right", "right", "voice_right", "calls", "oriented")


def _tally() -> dict:
    return {**dict.fromkeys(COUNTS, 0), "conf": [], "wer": {}, "t": [0, 0, 0]}


def _print_row(label: str, r: dict) -> None:
    def w(key, sp):
        e, n = r["wer"][(key, sp)]
        return e / n if n else 0.0

    print(
        f"{label:<16} {r['calls']:>5} {r['right'] / r['words']:>8.3f} {r['voice_right'] / r['words']:>9.3f} "
        f"{r['mixed'] / r['words']:>6.3f} {r['oriented']:>5}/{r['calls']:<3} "
        f"{r['trusted_right']:>6}/{r['trusted']:<3} {np.mean(r['conf']):>5.2f} "
        f"{w('mono', OPERATOR):>7.3f}/{w('stereo', OPERATOR):<7.3f} "
        f"{w('mono', CLIENT):>7.3f}/{w('stereo', CLIENT):<7.3f}"
    )


def report(results: list[dict], min_confidence: float, diarizer: Diarizer) -> None:
    truth = yaml.safe_load((ROOT / "demo" / "ground_truth.yaml").read_text(encoding="utf-8"))
    checklists = _checklists()
    critical = {f"{cid}/{it.id}" for cid, c in checklists.items() for _, it in c.items() if it.critical}
    rows: dict[str, dict] = {}
    auto = {"mono": {}, "stereo": {}}
    ref_verdicts = {}
    for res in results:
        ref = json.loads((CORPUS / res["condition"] / f"{res['call_id']}.json").read_text(encoding="utf-8"))
        r = rows.setdefault(res["condition"], _tally())
        mono, took = diarize(diarizer, res)
        words = [(w.start, w.end, s.speaker) for s in mono.segments for w in s.words]
        truth_of = [_truth_of(ref, (a + b) / 2) for a, b, _ in words]
        right = sum(sp == t for (_, _, sp), t in zip(words, truth_of, strict=True))
        r["words"] += len(words)
        r["mixed"] += sum(sp == MIXED for _, _, sp in words)
        confident = mono.diarization is not None and mono.diarization.confidence >= min_confidence
        r["trusted"] += confident
        r["trusted_right"] += confident and right * 2 >= len(words)
        r["right"] += right
        r["voice_right"] += max(right, len(words) - right)
        r["calls"] += 1
        r["oriented"] += right * 2 >= len(words)
        r["conf"].append(mono.diarization.confidence if mono.diarization else 0.0)
        for key, t in (("mono", mono), ("stereo", _stereo(res))):
            for sp in (OPERATOR, CLIENT):
                w = wer(" ".join(s["text"] for s in ref["segments"] if s["speaker"] == sp), t.text_of(sp))
                acc = r["wer"].setdefault((key, sp), [0, 0])
                acc[0] += w.substitutions + w.deletions + w.insertions
                acc[1] += w.reference_words
            meta = META[res["call_id"]]
            for c in checklists.values():
                if not c.applies("phone", meta.get("direction")) or res["call_id"] not in truth.get(c.id, {}):
                    continue
                sc = score(
                    t,
                    c,
                    written=False,
                    variables={"clinic": CLINIC, "operator_name": SPOKEN_NAMES.get(meta["operator"], "")},
                    min_role_confidence=min_confidence,
                )
                for item in sc.items:
                    want = truth[c.id][res["call_id"]].get(item.item_id)
                    if want is not None:
                        k = (f"{res['condition']}/{res['call_id']}", f"{c.id}/{item.item_id}")
                        auto[key][k] = item.verdict
                        ref_verdicts[k] = want
        r["t"][0] += res["audio_s"]
        r["t"][1] += took
        r["t"][2] += res["mono_s"]

    print(
        f"{'condition':<16} {'calls':>5} {'role acc':>8} {'voice acc':>9} {'mixed':>6} {'right way':>9} "
        f"{'trusted ok':>10} {'conf':>5} {'WER op mono/st':>15} {'WER cl mono/st':>15}"
    )
    tot = _tally()
    for cond, r in sorted(rows.items()):
        for k in COUNTS:
            tot[k] += r[k]
        tot["conf"] += r["conf"]
        tot["t"] = [a + b for a, b in zip(tot["t"], r["t"], strict=True)]
        for k, (e, n) in r["wer"].items():
            acc = tot["wer"].setdefault(k, [0, 0])
            acc[0] += e
            acc[1] += n
        _print_row(cond, r)
    _print_row("ALL", tot)
    worst = min(rows.items(), key=lambda kv: kv[1]["right"] / kv[1]["words"])
    print(f"worst condition: {worst[0]} (role accuracy {worst[1]['right'] / worst[1]['words']:.3f})")
    for key in ("stereo", "mono"):
        a = compare(auto[key], ref_verdicts, critical)
        print(
            f"checklist agreement, {key:<6}: {a.rate:.1%} of {a.pairs} verdicts "
            f"(decided ones: {a.decided_rate:.1%}; sent to review: {a.to_review})"
        )
    audio, added, mono_s = tot["t"]
    print(
        f"time: diarization adds {added / audio:.4f} s per second of audio "
        f"(mono transcription with it: real-time factor {mono_s / audio:.3f}); {audio / 60:.1f} min of audio"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=["tune", "held_out"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--conditions", help="only these conditions (comma-separated)")
    ap.add_argument("--min-confidence", type=float, default=0.8)
    args = ap.parse_args()
    items = [(cond, cid) for cid, cond in conditions.items(args.part)]
    if args.conditions:
        wanted = set(args.conditions.split(","))
        items = [it for it in items if it[0] in wanted]
    missing = [it for it in items if not (CORPUS / it[0] / f"{it[1]}.wav").exists()]
    if missing:
        sys.exit(f"{len(missing)} recordings are not rendered: run `.venv/bin/python benchmarks/conditions.py`")
    todo = [it for it in items if not (CACHE / it[0] / f"{it[1]}.json").exists()]
    if todo:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        jobs = max(1, min(args.jobs, len(todo)))
        procs = [ctx.Process(target=_worker, args=(todo[i::jobs], jobs, q)) for i in range(jobs)]
        for p in procs:
            p.start()
        done, ended = 0, 0
        while ended < len(procs):
            msg = q.get()
            if isinstance(msg, tuple):
                ended += 1
                if msg[0] == "error":
                    sys.exit(msg[1])
            else:
                done += 1
                print(f"\r{done}/{len(todo)} calls", end="", file=sys.stderr, flush=True)
        for p in procs:
            p.join()
        print(file=sys.stderr)
    results = [json.loads((CACHE / c / f"{i}.json").read_text(encoding="utf-8")) for c, i in items]
    print(f"== {args.part}: {len(results)} two-voice calls mixed down to mono")
    diarizer = Diarizer.installed(ROOT / "models")
    if diarizer is None:
        sys.exit("the speaker encoder is not installed: run `make model` (or `qa-review models install voice-encoder`)")
    report(results, args.min_confidence, diarizer)


if __name__ == "__main__":
    main()

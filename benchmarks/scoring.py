"""Automatic verdicts against hand-written ground truth, on real transcripts.

    .venv/bin/python benchmarks/scoring.py [--db demo/work/demo.db]

Uses the transcripts in the database (run `make demo-data` first, or pass
--transcribe to build a fresh one with the base model). Prints agreement
overall and per item, precision and recall of "fail" verdicts, critical items
wrongly failed, and scoring time per call. The same scoring is then run on
the reference text (perfect ASR) to show what ASR errors cost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.core.agreement import compare  # noqa: E402
from qa_review.core.domain import Interval, Segment, Transcript, Word  # noqa: E402
from qa_review.core.permissions import system_actor  # noqa: E402
from qa_review.core.scoring import score  # noqa: E402
from qa_review.services import ingest, transcription  # noqa: E402
from qa_review.services.catalog import load_checklists  # noqa: E402
from qa_review.services.settings import Settings  # noqa: E402

ACTOR = system_actor("benchmark")  # the pipeline runs as the command line's admin
from qa_review.storage import open_storage  # noqa: E402

sys.path.insert(0, str(ROOT / "demo"))
from scripts import SPOKEN_NAMES  # noqa: E402

DEMO = ROOT / "demo"


def reference_transcript(call_id: str) -> Transcript | None:
    import json

    path = DEMO / "reference" / f"{call_id}.json"
    if not path.exists():
        return None
    ref = json.loads(path.read_text(encoding="utf-8"))
    segs = []
    for s in ref["segments"]:
        words = s["text"].split()
        step = (s["end"] - s["start"]) / len(words)
        speaker = "mixed" if ref["mono"] else s["speaker"]
        segs.append(
            Segment(
                speaker,
                s["start"],
                s["end"],
                s["text"],
                tuple(Word(s["start"] + i * step, s["start"] + (i + 1) * step, w) for i, w in enumerate(words)),
            )
        )
    acts = tuple(Interval(s.speaker, s.start, s.end) for s in segs)
    return Transcript(call_id, tuple(segs), acts, ref["duration_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(DEMO / "work" / "demo.db"))
    ap.add_argument("--transcribe", action="store_true", help="build a fresh database with the base model")
    args = ap.parse_args()

    db_path = Path(args.db)
    if args.transcribe:
        from qa_review.asr.models import resolve
        from qa_review.asr.transcribe import FasterWhisperTranscriber

        db_path = Path(tempfile.mkdtemp()) / "bench.db"
        settings = Settings(db_path=db_path)
        db = open_storage(db_path)
        ingest.ingest(db, ACTOR, DEMO / "calls", settings, manifest=DEMO / "manifest.csv")
        ingest.ingest(db, ACTOR, DEMO / "chats", settings)
        model = resolve("base", ROOT / "models")
        transcription.transcribe_pending(db, ACTOR, settings, lambda: FasterWhisperTranscriber(model))
    db = open_storage(db_path)

    truth = yaml.safe_load((DEMO / "ground_truth.yaml").read_text(encoding="utf-8"))
    checklists = {lc.checklist.id: lc.checklist for lc in load_checklists(ROOT / "checklists")[0]}
    for source in ("ASR transcripts", "reference text"):
        auto, ref, critical, times = {}, {}, set(), []
        for checklist_id, calls in truth.items():
            c = checklists[checklist_id]
            critical |= {f"{checklist_id}/{it.id}" for _, it in c.items() if it.critical}
            for call_id, verdicts in calls.items():
                call = db.calls.get(call_id)
                if source == "ASR transcripts":
                    t = db.transcripts.get(call_id)
                else:
                    t = reference_transcript(call_id) or db.transcripts.get(call_id)
                if t is None:
                    sys.exit(f"{call_id} is not transcribed in {db_path}: run `make demo-data` or pass --transcribe")
                t0 = time.perf_counter()
                sc = score(
                    t,
                    c,
                    written=call["kind"] == "written",
                    variables={"operator_name": SPOKEN_NAMES.get(call["operator"], "")},
                )
                times.append(time.perf_counter() - t0)
                for item in sc.items:
                    if item.item_id in verdicts:
                        auto[(call_id, f"{checklist_id}/{item.item_id}")] = item.verdict
                for item_id, v in verdicts.items():
                    ref[(call_id, f"{checklist_id}/{item_id}")] = v
        a = compare(auto, ref, critical)
        print(f"== {source}: {a.pairs} (call, item) pairs, {len(times)} calls")
        print(
            f"agreement {a.rate:.1%} (on items the machine decided: {a.decided_rate:.1%}; "
            f"sent to review: {a.to_review})"
        )
        inbound = compare(
            {k: v for k, v in auto.items() if k[1].startswith("clinic-inbound/")},
            {k: v for k, v in ref.items() if k[1].startswith("clinic-inbound/")},
            critical,
        )
        print(f"clinic-inbound alone: agreement {inbound.rate:.1%}")
        print(
            f"fail verdicts: precision {a.fail_precision:.2f}, recall {a.fail_recall:.2f}; "
            f"critical items wrongly failed: {len(a.critical_wrong_fail)}"
        )
        print(f"scoring time per call: mean {1000 * sum(times) / len(times):.1f} ms, max {1000 * max(times):.1f} ms")
        print("per item (agree/total):")
        for item, (ok, n) in sorted(a.per_item.items()):
            print(f"  {item:<45} {ok}/{n}")
        if a.disagreements:
            print("disagreements (call, item, automatic, truth):")
            for d in a.disagreements:
                print("  ", *d)
        print()


if __name__ == "__main__":
    main()

"""Generate the committed two-voice mono test call (tests/data/mono-two-voices.*), once.

    make bench-tools && .venv/bin/python scripts/make_mono_fixture.py

An inbound call to the clinic: the operator in festival's Russian voice, the
client in espeak-ng's `ru+m1`, mixed into one 8 kHz channel through the
telephone band (300-3400 Hz), as a PBX that records mono writes it. The
reference keeps who said each line and when, so diarization is measured
against the truth. The tests use the committed files; they need no synthesizer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.conditions import CACHE, RATE, _write_wav, render_dialogue  # noqa: E402

OUT = ROOT / "tests" / "data"
OP, CL = "operator", "client"
CALL = {
    "call_id": "mono-two-voices",
    "lines": [
        (OP, "Клиника Здоровье, здравствуйте, меня зовут Анна. Чем могу помочь?", 0.5),
        (CL, "Добрый день. Я хочу записаться к стоматологу на следующей неделе.", 0.7),
        (OP, "Хорошо. Есть время во вторник в десять утра или в четверг в три часа.", 0.6),
        (CL, "Давайте во вторник.", 0.5),
        (OP, "Записала вас на вторник, десять утра. Подскажите вашу фамилию.", 0.6),
        (CL, "Смирнов. Спасибо большое.", 0.5),
        (OP, "Спасибо за звонок, всего доброго.", 0.5),
    ],
}


def main() -> None:
    chans, refs = render_dialogue(CALL, ("fest", "espeak-m1"), CACHE)
    mono = (chans["operator"] + chans["client"]).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_s:
        raw = Path(tmp_s) / "raw.wav"
        _write_wav(raw, [mono], RATE)
        line = Path(tmp_s) / "line.wav"
        subprocess.run(["sox", str(raw), "-r", "8000", str(line), "sinc", "300-3400"], check=True)
        out = OUT / "mono-two-voices.ogg"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(line), "-c:a", "libvorbis", "-q:a", "4", str(out)], check=True
        )
    (OUT / "mono-two-voices.json").write_text(
        json.dumps(
            {"call_id": CALL["call_id"], "voices": ["fest", "espeak-m1"], "mono": True, "segments": refs},
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB) and its reference")


if __name__ == "__main__":
    main()

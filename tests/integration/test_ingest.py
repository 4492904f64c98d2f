import json
import shutil

import pytest

from qa_review.core.permissions import User as _User  # noqa: E402
from qa_review.services import ingest, transcription
from qa_review.storage import open_storage
from tests.audio_factory import write_wav
from tests.conftest import PIPELINE

ADMIN_USER = _User("root", "admin")

MANIFEST_HEADER = "file,call_id,operator,started_at,direction,phone,queue,tags\n"


@pytest.fixture
def db(settings):
    return open_storage(settings.db_path)


def test_folder_of_good_files_is_ingested_with_audio_facts(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "a.wav", channels=2, seconds=2.0)
    write_wav(tmp_path / "in" / "sub" / "b.wav", channels=1, seconds=1.0)
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert report.errors == []
    assert sorted(report.added) == ["a", "b"]
    a = db.calls.get("a")
    assert (a["audio_channels"], a["sample_rate"], a["status"]) == (2, 8000, "ingested")
    assert a["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert a["operator"] == "unknown"  # no manifest, no sidecar: not guessed


def test_rerun_is_a_noop_and_identical_audio_is_stored_once(db, settings, tmp_path):
    src = write_wav(tmp_path / "in" / "a.wav")
    shutil.copy(src, tmp_path / "in" / "copy-of-a.wav")
    first = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert len(first.added) == 1 and len(first.duplicates) == 1
    second = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert second.added == [] and len(second.duplicates) == 2
    assert len(db.calls.list()) == 1


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.wav", b"", "empty"),
        ("garbage.wav", b"RIFF not really a wave file at all" * 10, "corrupt"),
        ("notes.txt", b"hello", "unsupported format .txt"),
        ("noext", b"hello", "unsupported format (no extension)"),
        ("list.csv", b"a,b\n", "--manifest"),
    ],
)
def test_bad_file_is_reported_and_the_batch_goes_on(db, settings, tmp_path, name, content, reason):
    write_wav(tmp_path / "in" / "good.wav")
    (tmp_path / "in" / name).write_bytes(content)
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert report.added == ["good"]
    assert len(report.errors) == 1
    where, message = report.errors[0]
    assert name in where and reason in message
    recorded = db.calls.ingest_errors(report.batch)
    assert [r["reason"] for r in recorded] == [message]


def encode(src, out, codec, fmt=None, **options):
    import av

    with av.open(str(src)) as inp, av.open(str(out), "w", format=fmt, options=options) as dst:
        # FFmpeg's own Vorbis encoder is "experimental": it must be asked for
        extra = {"options": {"strict": "experimental"}} if codec == "vorbis" else {}
        stream = dst.add_stream(codec, rate=16000, **extra)
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=16000)
        for frame in inp.decode(audio=0):
            frame.pts = None
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out


@pytest.mark.parametrize(
    "suffix, codec, fmt, options",
    [
        (".wav", None, None, {}),
        (".flac", "flac", None, {}),
        (".ogg", "libopus", "ogg", {}),
        (".opus", "libopus", "ogg", {}),
        (".oga", "vorbis", "ogg", {}),
        (".mp3", "libmp3lame", None, {}),
        (".m4a", "aac", "ipod", {}),
        (".m4a", "aac", "ipod", {"movflags": "+faststart"}),  # the index first: the cut file still opens
    ],
)
def test_a_recording_cut_short_is_reported_in_every_format(db, settings, tmp_path, suffix, codec, fmt, options):
    src = write_wav(tmp_path / "src.wav", channels=1, seconds=12.0, rate=16000)
    whole = tmp_path / f"whole{suffix}"
    if codec is None:
        whole.write_bytes(src.read_bytes())
    else:
        encode(src, whole, codec, fmt, **options)
    assert ingest.ingest(db, PIPELINE, whole, settings).added == ["whole"]  # the whole file is fine
    cut = tmp_path / "in" / f"cut{suffix}"
    cut.parent.mkdir()
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    report = ingest.ingest(db, PIPELINE, cut, settings)
    assert report.added == []
    ((where, reason),) = report.errors
    assert str(cut) in where and ("truncated" in reason or "corrupt" in reason), reason


def test_truncated_mp3_is_reported_as_corrupt(db, settings, tmp_path):
    av = pytest.importorskip("av")
    src = write_wav(tmp_path / "src.wav", channels=1, seconds=6.0, rate=16000)
    mp3 = tmp_path / "in" / "cut.mp3"
    mp3.parent.mkdir()
    with av.open(str(src)) as inp, av.open(str(mp3), "w") as out:
        stream = out.add_stream("libmp3lame", rate=16000)
        for frame in inp.decode(audio=0):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    data = mp3.read_bytes()
    mp3.write_bytes(data[: len(data) // 2])
    report = ingest.ingest(db, PIPELINE, mp3, settings)
    assert report.added == []
    assert "corrupt" in report.errors[0][1] or "truncated" in report.errors[0][1]


def test_sidecar_json_gives_metadata(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "rec-17.wav")
    (tmp_path / "in" / "rec-17.json").write_text(
        json.dumps(
            {
                "call_id": "C-17",
                "operator": "anna",
                "started_at": "2026-11-02T09:15:00",
                "direction": "inbound",
                "tags": ["booking", "vip"],
            }
        )
    )
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert report.added == ["C-17"] and report.errors == []
    call = db.calls.get("C-17")
    assert call["operator"] == "anna"
    assert call["started_at"] == "2026-11-02T09:15:00+03:00"  # naive time: clinic zone
    assert call["tags"] == ["booking", "vip"]


def test_bad_sidecar_names_the_field(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "rec.wav")
    (tmp_path / "in" / "rec.json").write_text(json.dumps({"call_id": "X", "started_at": "yesterday"}))
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    message = report.errors[0][1]
    assert "rec.json" in message and "operator" in message and "started_at" in message


def test_file_name_stamp_gives_start_time(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "out-20261102-091500-79161234567.wav")
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    call = db.calls.list()[0]
    assert call["started_at"] == "2026-11-02T09:15:00+03:00"


def test_manifest_rows_each_checked_and_good_rows_go_in(db, settings, tmp_path):
    for n in range(4):
        write_wav(tmp_path / "in" / f"r{n}.wav", freqs=(300.0 + 50 * n,))
    (tmp_path / "m.csv").write_text(
        MANIFEST_HEADER
        + "r0.wav,C0,anna,2026-11-02T09:00:00+03:00,inbound,+7916,reg,booking;vip\n"
        + "r1.wav,C1,,2026-11-02T09:05:00,,,,\n"  # operator missing
        + "r2.wav,C2,ivan,not-a-date,,,,\n"
        + "missing.wav,C3,ivan,2026-11-02T09:10:00,,,,\n"
        + "r3.wav,C4,ivan,2026-11-02T09:20:00,sideways,,,\n"
        + "r3.wav,C5,ivan,2026-11-02T09:20:00,outbound,,,\n"
    )
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings, manifest=tmp_path / "m.csv")
    assert sorted(report.added) == ["C0", "C5"]
    reasons = {where.rsplit(":", 1)[1]: msg for where, msg in report.errors}
    assert set(reasons) == {"3", "4", "5", "6"}
    assert "operator" in reasons["3"] and "line 3" in reasons["3"]
    assert "started_at" in reasons["4"]
    assert "missing.wav" in reasons["5"] and "not found" in reasons["5"]
    assert "direction" in reasons["6"]
    c0 = db.calls.get("C0")
    assert c0["tags"] == ["booking", "vip"] and c0["phone"] == "+7916"


def test_manifest_without_required_column_is_refused_with_line_1(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "r0.wav")
    (tmp_path / "m.csv").write_text("file,call_id,started_at\nr0.wav,C0,2026-11-02T09:00:00\n")
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings, manifest=tmp_path / "m.csv")
    assert report.added == []
    assert "line 1" in report.errors[0][1] and "operator" in report.errors[0][1]


def test_manifest_from_excel_with_bom_and_semicolons(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "r0.wav")
    (tmp_path / "m.csv").write_bytes(
        "\ufefffile;call_id;operator;started_at\nr0.wav;C0;anna;2026-11-02 09:00\n".encode()
    )
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings, manifest=tmp_path / "m.csv")
    assert report.added == ["C0"], report.errors


def test_same_call_id_for_other_audio_is_refused(db, settings, tmp_path):
    write_wav(tmp_path / "a" / "x.wav", freqs=(300.0,))
    write_wav(tmp_path / "b" / "x.wav", freqs=(500.0,))
    ingest.ingest(db, PIPELINE, tmp_path / "a", settings)
    report = ingest.ingest(db, PIPELINE, tmp_path / "b", settings)
    assert report.added == [] and "already used" in report.errors[0][1]


def test_missing_path_is_reported(db, settings, tmp_path):
    report = ingest.ingest(db, PIPELINE, tmp_path / "nope", settings)
    assert "no such file" in report.errors[0][1]


def test_written_conversation_is_stored_as_a_transcript(db, settings, tmp_path):
    conv = {
        "conversation_id": "chat-1",
        "operator": "anna",
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "messages": [
            {"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Здравствуйте!"},
            {"speaker": "operator", "at": "2026-11-04T19:01:30+03:00", "text": "Клиника «Здоровье», Анна."},
        ],
    }
    (tmp_path / "chat.json").write_text(json.dumps(conv, ensure_ascii=False))
    report = ingest.ingest(db, PIPELINE, tmp_path / "chat.json", settings)
    assert report.added == ["chat-1"]
    detail = transcription.call_detail(db, ADMIN_USER, "chat-1")
    assert detail["call"]["kind"] == "written" and detail["call"]["status"] == "transcribed"
    segs = detail["transcript"].segments
    assert [(s.speaker, s.start) for s in segs] == [("client", 0.0), ("operator", 90.0)]
    assert ingest.ingest(db, PIPELINE, tmp_path / "chat.json", settings).added == []  # once only


def test_json_that_is_neither_conversation_nor_sidecar_is_reported(db, settings, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "stray.json").write_text('{"a": 1}')
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert "messages" in report.errors[0][1]


def test_times_are_stored_on_the_clinics_clock(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "r.wav")
    (tmp_path / "in" / "r.json").write_text(
        json.dumps({"call_id": "utc", "operator": "anna", "started_at": "2026-11-30T21:30:00Z"})
    )
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert db.calls.get("utc")["started_at"] == "2026-12-01T00:30:00+03:00"


def test_calls_listed_by_month(db, settings, tmp_path):
    for name, at in (("a", "2026-11-30T23:59:00"), ("b", "2026-12-01T00:00:00"), ("c", "2027-01-15T10:00:00")):
        write_wav(tmp_path / "in" / f"{name}.wav", freqs=(300.0 + ord(name),))
        (tmp_path / "in" / f"{name}.json").write_text(json.dumps({"call_id": name, "operator": "x", "started_at": at}))
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert db.calls.months() == ["2027-01", "2026-12", "2026-11"]
    assert [c["call_id"] for c in db.calls.list(month="2026-11")] == ["a"]
    assert [c["call_id"] for c in db.calls.list(month="2026-12")] == ["b"]


def test_files_the_manifest_does_not_name_are_reported(db, settings, tmp_path):
    for name in ("listed.wav", "forgotten.wav", "sub/also-forgotten.ogg.wav"):
        write_wav(tmp_path / "in" / name, freqs=(300.0 + len(name),))
    (tmp_path / "in" / "listed.json").write_text("{}")  # the listed recording's sidecar: goes with it
    (tmp_path / "in" / "notes.txt").write_text("not a call")  # neither audio nor a conversation
    (tmp_path / "in" / "m.csv").write_text(MANIFEST_HEADER + "listed.wav,L1,anna,2026-11-02T09:00:00,,,,\n")
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings, manifest=tmp_path / "in" / "m.csv")
    assert report.added == ["L1"] and report.errors == []
    assert sorted(report.unlisted) == sorted(
        str(tmp_path / "in" / n) for n in ("forgotten.wav", "sub/also-forgotten.ogg.wav")
    )
    assert "2 file(s) in the folder not in the manifest" in report.summary()


def conversation_with(messages) -> str:
    return json.dumps(
        {"conversation_id": "x", "operator": "anna", "started_at": "2026-11-04T19:00:00+03:00", "messages": messages}
    )


def test_a_chat_file_too_deep_or_too_large_fails_alone_and_the_batch_goes_on(db, settings, tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "deep.json").write_text('{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}")
    monkeypatch.setattr(ingest, "MAX_JSON_BYTES", 300_000)  # the real limit is 20 MiB
    (tmp_path / "in" / "huge.json").write_text(
        conversation_with([{"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "а" * 200_000}])
    )
    write_wav(tmp_path / "in" / "fine.wav")
    report = ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    assert report.added == ["fine"]
    reasons = {where.rsplit("/", 1)[1]: reason for where, reason in report.errors}
    assert "nested too deeply" in reasons["deep.json"]
    assert "too large" in reasons["huge.json"] and "split" in reasons["huge.json"]

"""The site's ASR profile: validation with lines, defaults, vocabulary, overrides."""

import pytest

from qa_review.asr import profile as asr_profile
from qa_review.asr.transcribe import AsrOptions
from qa_review.core.errors import ProfileError
from qa_review.services.settings import Settings


def test_no_file_means_the_benchmarked_defaults(tmp_path):
    p = asr_profile.load(tmp_path / "absent.yaml")
    assert p.options() == AsrOptions()
    assert p.hotwords("Анна") == "Анна"  # the operator's name alone


def test_a_profile_sets_what_it_names_and_keeps_the_rest():
    p = asr_profile.parse("""
model: small
beam_size: 3
vad: {threshold: 0.3}
guard: {min_gap_s: 1.0}
vocabulary:
  clinic: Клиника Здоровье
  terms: [Соколова, кардиолог]
""")
    o = p.options()
    assert (p.model, o.beam_size, o.vad_threshold, o.guard_min_gap_s) == ("small", 3, 0.3, 1.0)
    assert o.vad_min_silence_ms == AsrOptions().vad_min_silence_ms
    assert p.hotwords("Анна") == "Клиника Здоровье Анна Соколова кардиолог"
    assert p.variables("Анна") == {"clinic": "Клиника Здоровье", "operator_name": "Анна"}
    assert p.variables(None) == {"clinic": "Клиника Здоровье"}


def test_vocabulary_can_be_kept_from_the_decoder():
    p = asr_profile.parse("vocabulary: {clinic: Клиника, use: false, operator_name: false}")
    assert p.options().use_hotwords is False
    assert p.hotwords("Анна") == "Клиника"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("beam_size: 0\n", ["x.yaml:1: beam_size:"]),
        ("model: base\nvad:\n  threshold: 1.5\n", ["x.yaml:3: vad.threshold:"]),
        ("vocabulary:\n  clinik: Здоровье\n", ["x.yaml:2: vocabulary.clinik: unknown field 'clinik'"]),
        ("vad: [1, 2\n", ["x.yaml:", "not valid YAML"]),
        ("- a\n- b\n", ["x.yaml:1: an ASR profile is a mapping"]),
    ],
)
def test_each_mistake_is_reported_with_its_line(text, expected):
    with pytest.raises(ProfileError) as e:
        asr_profile.parse(text, "x.yaml")
    for part in expected:
        assert part in str(e.value)


def test_language_override_beats_the_profile_and_auto_detects():
    p = asr_profile.parse("language: ru")
    assert p.options(language="kk").language == "kk"
    assert p.options(language="auto").language is None
    assert p.options().language == "ru"


def test_asr_setup_takes_option_then_environment_then_profile(tmp_path):
    from qa_review.core.errors import ModelError
    from qa_review.services import transcription

    (tmp_path / "p.yaml").write_text("model: /nowhere/profile-model\nbeam_size: 2\n", encoding="utf-8")
    s = Settings(asr_profile=tmp_path / "p.yaml", models_dir=tmp_path)
    with pytest.raises(ModelError, match="profile-model"):
        transcription.asr_setup(s)
    with pytest.raises(ModelError, match="env-model"):
        transcription.asr_setup(s.with_(model="/nowhere/env-model"))
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "model.bin").write_bytes(b"x")
    setup = transcription.asr_setup(s.with_(model="/nowhere/env-model"), model=str(model_dir))
    assert setup.model_path == str(model_dir) and setup.options.beam_size == 2

"""A clinic's own CTranslate2 Whisper folder: checked, copied, registered, resolved."""

import pytest

from qa_review import asr_models
from qa_review.errors import ModelError


def _folder(path, files=asr_models.REQUIRED_FILES):
    path.mkdir(parents=True)
    for f in files:
        (path / f).write_text("{}" if f.endswith(".json") else "weights")
    return path


def test_a_complete_folder_that_loads_is_copied_and_resolves_by_name(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    src = _folder(tmp_path / "whisper-small-ct2")
    loaded = []
    target = asr_models.install_from("small-clinic", src, models, check=loaded.append, say=lambda m: None)
    assert loaded == [src]
    assert (target / "model.bin").read_text() == "weights"
    (src / "model.bin").unlink()  # the source may move or vanish afterwards
    assert asr_models.resolve("small-clinic", models) == str(target)
    assert [m["name"] for m in asr_models.list_models(models)] == ["small-clinic"]


def test_an_incomplete_folder_names_what_is_missing(tmp_path):
    src = _folder(tmp_path / "half", files=("model.bin", "config.json"))
    with pytest.raises(ModelError, match="missing tokenizer.json, vocabulary.json"):
        asr_models.install_from("half", src, tmp_path, check=lambda p: None, say=lambda m: None)


def test_a_folder_that_does_not_load_is_refused_and_nothing_is_registered(tmp_path):
    src = _folder(tmp_path / "broken")

    def fails(path):
        raise RuntimeError("Unsupported model binary version")

    with pytest.raises(ModelError, match="does not load .*Unsupported model binary"):
        asr_models.install_from("broken", src, tmp_path / "m", check=fails, say=lambda m: None)
    assert not (tmp_path / "m" / "broken").exists()


@pytest.mark.parametrize("name, match", [("Base Model", "use lower-case"), ("x", None)])
def test_names_are_checked(tmp_path, name, match):
    models = tmp_path / "models"
    models.mkdir()
    src = _folder(tmp_path / "src")
    if match:
        with pytest.raises(ModelError, match=match):
            asr_models.install_from(name, src, models, check=lambda p: None, say=lambda m: None)
    else:
        asr_models.install_from(name, src, models, check=lambda p: None, say=lambda m: None)
        with pytest.raises(ModelError, match="exists; pass --force"):
            asr_models.install_from(name, src, models, check=lambda p: None, say=lambda m: None)


@pytest.mark.model
def test_the_real_base_model_installs_from_a_folder_through_the_cli(tmp_path, base_model_path):
    from click.testing import CliRunner

    from qa_review.cli import cli

    models = tmp_path / "models"
    models.mkdir()
    result = CliRunner().invoke(cli, ["models", "install", "mine", "--from", str(base_model_path)],
                                env={"QA_REVIEW_MODELS": str(models)})
    assert result.exit_code == 0, result.output
    assert asr_models.resolve("mine", models) == str(models / "mine")

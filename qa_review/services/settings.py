"""Settings: defaults, then the site's configuration file, then the environment; CLI options override all.

Every setting has a default that works for the demo, so a fresh clone runs
without any configuration. A clinic writes ``qa-review.yaml`` (or points
``--config`` / ``QA_REVIEW_CONFIG`` at one), so a service unit, a cron line
and an admin's shell all see the same settings; ``qa-review config show``
prints them with where each came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qa_review.core.domain import CLIENT, OPERATOR
from qa_review.core.errors import ConfigError
from qa_review.core.site_config import BY_NAME, KEYS, SHIPPED, Key, parse_config, parse_env

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_DIR.parent
# A checkout (and an editable install) has pyproject.toml beside the package.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").exists()


def shipped(name: str) -> Path:
    """A folder qa-review ships (checklists, rules): the checkout's, else the installed package's copy."""
    return REPO_ROOT / name if IN_CHECKOUT else PACKAGE_DIR / "bundled" / name


def _default_models_dir() -> Path:
    # A checkout keeps installed models beside the registry; an installed
    # package installs them under ./models (the registry comes with it).
    return REPO_ROOT / "models" if IN_CHECKOUT else Path.cwd() / "models"


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("qa_review.db")
    data_dir: Path | None = None  # None: qa-review-data beside the database
    models_dir: Path = field(default_factory=_default_models_dir)
    # In order: a later folder's checklist replaces an earlier one's with the same id.
    checklist_dirs: tuple[Path, ...] = field(default_factory=lambda: (shipped("checklists"),))
    bonus_rules: Path = field(default_factory=lambda: shipped("rules") / "monthly-bonus.yaml")
    call_log_rules: Path = field(default_factory=lambda: shipped("rules") / "call-log.yaml")
    # Which party each stereo channel carries: (left, right).
    channel_roles: tuple[str, str] = (OPERATOR, CLIENT)
    # ASR: the site's profile file, and overrides of it (None: the profile's)
    asr_profile: Path = Path("asr-profile.yaml")
    language: str | None = None  # "auto": let Whisper detect it
    timezone: str = "Europe/Moscow"  # for naive timestamps in metadata
    model: str | None = None
    scheduler: str | None = None  # a Dask scheduler's address; None: a cluster inside the command
    audio_retention_months: int | None = None  # None: recordings are kept for good
    # A hard link costs no disk, but shares the file with the PBX: one that
    # rewrites a recording in place would change the archived one too.
    archive_links: bool = True
    dispute_window_days: int = 5  # operators may dispute this long after finalization
    session_idle_hours: float = 8.0  # an app session unused this long asks to log in again
    # Single sign-on: a TOML file with Streamlit's [auth] section (OIDC provider),
    # and the claim of the provider's identity token that admins link to users.
    sso_config: Path | None = None
    sso_claim: str = "email"
    # Mono recordings: tell the two voices apart (needs the voice-encoder
    # model), and below this confidence in who the operator is, verdicts that
    # depend on it go to a person.
    diarize: bool = True
    mono_min_confidence: float = 0.8
    # The log: level ("off": none; a terminal has the commands' own output),
    # file (None: standard error) and text (key=value) or json lines.
    log_level: str = "off"
    log_file: Path | None = None
    log_format: str = "text"

    @property
    def data_folder(self) -> Path:
        """The data folder: data_dir, else qa-review-data beside the database."""
        if self.data_dir is not None:
            return self.data_dir
        return Path(self.db_path).parent / "qa-review-data"

    @property
    def tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ConfigError(
                f"time zone {self.timezone!r} is not known; use an IANA name such as Europe/Moscow"
            ) from e

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


CONFIG_NAME = "qa-review.yaml"
CONFIG_ENV = "QA_REVIEW_CONFIG"

# Each key of the file (and its environment variable) and the Settings field it sets.
_FIELD = {
    "database": "db_path",
    "data_dir": "data_dir",
    "timezone": "timezone",
    "channels": "channel_roles",
    "language": "language",
    "dispute_window_days": "dispute_window_days",
    "session_idle_hours": "session_idle_hours",
    "checklists": "checklist_dirs",
    "bonus_rules": "bonus_rules",
    "call_log_rules": "call_log_rules",
    "asr_profile": "asr_profile",
    "models_dir": "models_dir",
    "model": "model",
    "scheduler": "scheduler",
    "diarize": "diarize",
    "mono_min_confidence": "mono_min_confidence",
    "sso_config": "sso_config",
    "sso_claim": "sso_claim",
    "audio_retention_months": "audio_retention_months",
    "archive_links": "archive_links",
    "log_level": "log_level",
    "log_file": "log_file",
    "log_format": "log_format",
}


@dataclass(frozen=True)
class Effective:
    """The settings in force, where each came from ('default', 'FILE:LINE', 'env NAME', 'option --x'), and the file."""

    settings: Settings
    sources: dict[str, str]
    config: Path | None

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, source) for ``config show``."""
        out = []
        for key in KEYS:
            value = getattr(self.settings, _FIELD[key.name])
            if key.name == "data_dir":
                value = self.settings.data_folder
            if isinstance(value, tuple) and key.kind == "paths":
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, tuple):
                value = ",".join(value)
            if isinstance(value, bool):
                value = "yes" if value else "no"
            out.append((key.name, "—" if value is None else str(value), self.sources.get(key.name, "default")))
        return out


def config_path(option: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The configuration file: the option, else QA_REVIEW_CONFIG, else ./qa-review.yaml if there is one."""
    env = os.environ if env is None else env
    named = option or env.get(CONFIG_ENV) or None
    if named is not None:
        path = Path(named)
        if not path.is_file():
            how = f"--config {named}" if option else f"{CONFIG_ENV}={named}"
            raise ConfigError(
                f"{how}: no such file; write one (the README's Configuration section lists the settings) "
                "or leave it out to use the defaults"
            )
        return path
    here = Path.cwd() / CONFIG_NAME
    return here if here.is_file() else None


def _value(key: Key, parsed: object, base: Path | None) -> object:
    """A parsed value as the Settings field holds it; relative paths in a file are relative to the file."""

    def path(p: str) -> Path:
        q = Path(p).expanduser()
        return q if base is None or q.is_absolute() else Path(os.path.normpath(base / q))

    if key.kind == "paths":
        return tuple(shipped("checklists") if p == SHIPPED else path(p) for p in parsed)
    if key.kind == "path":
        return path(parsed)
    return parsed


def load(config: str | Path | None = None, env: Mapping[str, str] | None = None) -> Effective:
    """Defaults, then the configuration file, then the environment (CLI options are applied by the caller)."""
    env = os.environ if env is None else env
    path = config_path(config, env)
    changes: dict[str, object] = {}
    sources: dict[str, str] = {}
    if path is not None:
        text = _read_config(path)
        for name, fv in parse_config(text, str(path)).items():
            key = BY_NAME[name]
            changes[_FIELD[name]] = _value(key, fv.value, path.resolve().parent)
            sources[name] = f"{path}:{fv.line}"
    for key in KEYS:
        raw = env.get(key.env)
        if raw is None or (raw == "" and key.kind == "path"):
            continue
        changes[_FIELD[key.name]] = _value(key, parse_env(key, raw), None)
        sources[key.name] = f"env {key.env}"
    settings = replace(Settings(), **changes)
    if settings.sso_config is not None and not settings.sso_config.is_file():
        raise ConfigError(
            f"sso_config ({sources['sso_config']}): {str(settings.sso_config)!r}: no such file; give the TOML file "
            "with the [auth] section of your identity provider (see the README, single sign-on), or remove it"
        )
    return Effective(settings, sources, path)


def _read_config(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the configuration file ({e})") from e


def parse_option(name: str, value: str, option: str) -> object:
    """A command-line option checked by its setting's rule: ``parse_option("channels", v, "--channels")``."""
    try:
        return BY_NAME[name].parse(value)
    except ValueError as e:
        raise ConfigError(f"{option} {value!r}: {e}") from e


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The settings in force for a process: defaults < the configuration file < the environment."""
    return load(env=env).settings

"""Settings, read once from the environment; CLI options override them.

Every setting has a default that works for the demo, so a fresh clone runs
without any configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qa_review.core.domain import CLIENT, OPERATOR
from qa_review.core.errors import ConfigError

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
    models_dir: Path = field(default_factory=_default_models_dir)
    checklists_dir: Path = field(default_factory=lambda: shipped("checklists"))
    bonus_rules: Path = field(default_factory=lambda: shipped("rules") / "monthly-bonus.yaml")
    call_log_rules: Path = field(default_factory=lambda: shipped("rules") / "call-log.yaml")
    # Which party each stereo channel carries: (left, right).
    channel_roles: tuple[str, str] = (OPERATOR, CLIENT)
    # ASR: the site's profile file, and overrides of it (None: the profile's)
    asr_profile: Path = Path("asr-profile.yaml")
    language: str | None = None  # "auto": let Whisper detect it
    timezone: str = "Europe/Moscow"  # for naive timestamps in metadata
    model: str | None = None
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

    @property
    def tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ConfigError(
                f"QA_REVIEW_TZ={self.timezone!r} is not a known time zone; use an IANA name such as Europe/Moscow"
            ) from e

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def parse_channel_roles(value: str) -> tuple[str, str]:
    parts = tuple(p.strip().lower() for p in value.split(","))
    if sorted(parts) != sorted((OPERATOR, CLIENT)):
        raise ConfigError(
            f"channel roles {value!r}: expected 'operator,client' or 'client,operator' (left channel first)"
        )
    return parts  # type: ignore[return-value]


def parse_language(value: str) -> str:
    value = value.strip().lower()
    return "auto" if value in ("", "auto") else value


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    s = Settings()
    if "QA_REVIEW_DB" in env:
        s = replace(s, db_path=Path(env["QA_REVIEW_DB"]))
    if "QA_REVIEW_MODELS" in env:
        s = replace(s, models_dir=Path(env["QA_REVIEW_MODELS"]))
    if "QA_REVIEW_CHECKLISTS" in env:
        s = replace(s, checklists_dir=Path(env["QA_REVIEW_CHECKLISTS"]))
    if env.get("QA_REVIEW_RULES"):
        s = replace(s, bonus_rules=Path(env["QA_REVIEW_RULES"]))
    if env.get("QA_REVIEW_CALL_LOG_RULES"):
        s = replace(s, call_log_rules=Path(env["QA_REVIEW_CALL_LOG_RULES"]))
    if "QA_REVIEW_CHANNELS" in env:
        s = replace(s, channel_roles=parse_channel_roles(env["QA_REVIEW_CHANNELS"]))
    if "QA_REVIEW_LANGUAGE" in env:
        s = replace(s, language=parse_language(env["QA_REVIEW_LANGUAGE"]))
    if "QA_REVIEW_TZ" in env:
        s = replace(s, timezone=env["QA_REVIEW_TZ"])
    if "QA_REVIEW_DISPUTE_DAYS" in env:
        try:
            days = int(env["QA_REVIEW_DISPUTE_DAYS"])
        except ValueError:
            days = -1
        if days < 0:
            raise ConfigError(
                f"QA_REVIEW_DISPUTE_DAYS={env['QA_REVIEW_DISPUTE_DAYS']!r}: expected a whole number of days, 0 or more"
            )
        s = replace(s, dispute_window_days=days)
    if "QA_REVIEW_SESSION_IDLE_HOURS" in env:
        try:
            hours = float(env["QA_REVIEW_SESSION_IDLE_HOURS"])
        except ValueError:
            hours = -1.0
        if hours <= 0:
            raise ConfigError(
                f"QA_REVIEW_SESSION_IDLE_HOURS={env['QA_REVIEW_SESSION_IDLE_HOURS']!r}: expected hours above 0, e.g. 8"
            )
        s = replace(s, session_idle_hours=hours)
    if env.get("QA_REVIEW_SSO_CONFIG"):
        path = Path(env["QA_REVIEW_SSO_CONFIG"])
        if not path.is_file():
            raise ConfigError(
                f"QA_REVIEW_SSO_CONFIG={str(path)!r}: no such file; give the TOML file with the [auth] section "
                "of your identity provider (see the README, single sign-on), or unset it"
            )
        s = replace(s, sso_config=path)
    if env.get("QA_REVIEW_SSO_CLAIM"):
        s = replace(s, sso_claim=env["QA_REVIEW_SSO_CLAIM"].strip())
    if env.get("QA_REVIEW_DIARIZE"):
        value = env["QA_REVIEW_DIARIZE"].strip().lower()
        if value not in ("0", "1", "yes", "no", "true", "false", "on", "off"):
            raise ConfigError(f"QA_REVIEW_DIARIZE={env['QA_REVIEW_DIARIZE']!r}: expected 1 or 0")
        s = replace(s, diarize=value in ("1", "yes", "true", "on"))
    if env.get("QA_REVIEW_MONO_MIN_CONFIDENCE"):
        try:
            level = float(env["QA_REVIEW_MONO_MIN_CONFIDENCE"])
        except ValueError:
            level = -1.0
        if not 0.5 <= level <= 1.0:
            raise ConfigError(
                f"QA_REVIEW_MONO_MIN_CONFIDENCE={env['QA_REVIEW_MONO_MIN_CONFIDENCE']!r}: expected a number "
                "from 0.5 (trust every guess) to 1 (a person checks every mono call), e.g. 0.8"
            )
        s = replace(s, mono_min_confidence=level)
    if "QA_REVIEW_ASR_PROFILE" in env:
        s = replace(s, asr_profile=Path(env["QA_REVIEW_ASR_PROFILE"]))
    if "QA_REVIEW_MODEL" in env:
        s = replace(s, model=env["QA_REVIEW_MODEL"])
    _ = s.tz  # fail early on a bad zone
    return s

"""Single sign-on: checking the identity provider's settings before the app starts with them.

The login itself is Streamlit's (``st.login``, OIDC through Authlib); its
settings are the ``[auth]`` section of a TOML file. A mistake there shows
only when someone clicks the button, as a bare "Authentication error"; the
checks here say it at ``qa-review serve`` instead, with the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from qa_review.core.errors import ConfigError

_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def check_config(path: Path) -> str:
    """The provider's name ("default" for one given in [auth] itself).

    A ConfigError says what is missing or wrong, and where.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the single sign-on settings ({e.strerror})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e}); fix the file or unset QA_REVIEW_SSO_CONFIG") from e
    auth = data.get("auth")
    if not isinstance(auth, dict):
        raise ConfigError(f"{path}: no [auth] section; single sign-on needs one (see the README, single sign-on)")
    where = f"{path}, [auth]"
    for key in ("redirect_uri", "cookie_secret"):
        if not isinstance(auth.get(key), str) or not auth[key].strip():
            raise ConfigError(f"{where}: {key} is missing")
    if not auth["redirect_uri"].rstrip("/").endswith("/oauth2callback"):
        raise ConfigError(
            f"{where}: redirect_uri {auth['redirect_uri']!r} must end with /oauth2callback, "
            "e.g. https://qa.clinic.ru/oauth2callback, and be registered so at the identity provider"
        )
    if len(auth["cookie_secret"]) < 32:
        raise ConfigError(f"{where}: cookie_secret is too short; use 32 random characters or more")
    providers = {name: v for name, v in auth.items() if isinstance(v, dict)}
    if any(k in auth for k in _PROVIDER_KEYS):
        providers = {"default": auth, **providers}
    if not providers:
        raise ConfigError(f"{where}: no provider; give client_id, client_secret and server_metadata_url")
    if len(providers) > 1:
        raise ConfigError(f"{where}: {len(providers)} providers ({', '.join(providers)}); the login page offers one")
    for name, section in providers.items():
        place = where if section is auth else f"{path}, [auth.{name}]"
        for key in _PROVIDER_KEYS:
            if not isinstance(section.get(key), str) or not section[key].strip():
                raise ConfigError(f"{place}: {key} is missing")
    return next(iter(providers))

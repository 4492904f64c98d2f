"""Helpers the Streamlit pages share: database per run, language, formatting.

Pages stay thin: they call ``services`` and draw; nothing here holds rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from .config import Settings, from_env
from .db import open_db
from .i18n import DEFAULT, LANGUAGES, t


def settings() -> Settings:
    return from_env()


def db():
    # One connection per script run: sqlite3 objects must not cross the
    # threads Streamlit runs sessions on.
    return open_db(settings().db_path)


def lang() -> str:
    value = st.session_state.get("lang", DEFAULT)
    return value if value in LANGUAGES else DEFAULT


def tr(key: str, **values) -> str:
    return t(key, lang(), **values)


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def local_time(iso: str, offset_s: float = 0.0) -> str:
    dt = datetime.fromisoformat(iso) + timedelta(seconds=offset_s)
    return dt.strftime("%d.%m.%Y %H:%M") if lang() == "ru" else dt.strftime("%Y-%m-%d %H:%M")

"""Helpers the Streamlit pages share: database per run, language, formatting.

Pages stay thin: they call ``services`` and draw; nothing here holds rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.services import logs
from qa_review.services.database import open_database
from qa_review.services.settings import Settings, from_env
from qa_review.ui.i18n import DEFAULT, LANGUAGES, t


def settings() -> Settings:
    return from_env()


@st.cache_resource(show_spinner=False)
def _log_to(level: str, file, fmt: str) -> None:
    logs.configure(level, file, fmt)


def start_log() -> None:
    """The app's log as the settings say: set up once per process, again only if they change."""
    s = settings()
    _log_to(s.log_level, s.log_file, s.log_format)


def db():
    # One connection per script run: sqlite3 objects must not cross the
    # threads Streamlit runs sessions on.
    return open_database(settings().db_path)


def lang() -> str:
    value = st.session_state.get("lang", DEFAULT)
    return value if value in LANGUAGES else DEFAULT


def tr(key: str, **values) -> str:
    return t(key, lang(), **values)


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def local_time(iso: str, offset_s: float = 0.0) -> str:
    # stored times carry their offset; show them on the clinic's clock
    dt = (datetime.fromisoformat(iso) + timedelta(seconds=offset_s)).astimezone(settings().tz)
    return dt.strftime("%d.%m.%Y %H:%M") if lang() == "ru" else dt.strftime("%Y-%m-%d %H:%M")


VERDICT_STYLE = {
    "pass": ("green", ":material/check_circle:"),
    "fail": ("red", ":material/cancel:"),
    "na": ("gray", ":material/remove:"),
    "review": ("orange", ":material/help:"),
}


def _escape(text: str) -> str:
    # Streamlit markdown: keep ASR text literal
    return "".join("\\" + ch if ch in "*_[]()`#~:$<>|" else ch for ch in text)


def highlighted(segment, span: tuple[str | None, float, float] | None) -> str:
    """A segment's text as markdown, the words inside ``span`` highlighted.

    ``span`` is (speaker, start, end) of a piece of evidence; a written
    message (no word timings) is highlighted whole when its time matches.
    """
    if not span or (span[0] and span[0] != segment.speaker):
        return _escape(segment.text)
    _, start, end = span
    if not segment.words:
        hit = segment.start - 0.01 <= start <= segment.end + 0.01
        return f":orange-background[{_escape(segment.text)}]" if hit else _escape(segment.text)
    parts = []
    for w in segment.words:
        text = _escape(w.text.strip())
        inside = w.end > start - 0.01 and w.start < end + 0.01
        parts.append(f":orange-background[{text}]" if inside else text)
    return " ".join(parts)


def evidence_text(ev) -> str:
    """One piece of evidence in the UI language (the core's text is English)."""
    prefix = tr("ev.applies") if ev.text.startswith("applies because ") else ""
    speaker = tr(f"speaker.{ev.speaker}").lower() if ev.speaker else ""
    if ev.kind in ("found", "borderline") or (ev.kind == "missing" and ev.words):
        key = "ev.closest" if ev.kind == "missing" else f"ev.{ev.kind}"
        return prefix + tr(
            key,
            phrase=ev.phrase,
            words=ev.words,
            speaker=speaker,
            start=f"{ev.start:.1f}",
            end=f"{(ev.end or ev.start):.1f}",
            sim=f"{(ev.similarity or 0):.2f}",
        )
    if ev.kind == "missing":
        return prefix + tr("ev.missing", phrase=ev.phrase)
    if ev.kind == "metric" and ev.metric:
        name = tr(f"metric.{ev.metric}")
        if ev.value is None:
            return tr("ev.metric_na", name=name)
        value = f"{ev.value:g}".replace(".", ",") if lang() == "ru" else f"{ev.value:g}"
        span = (
            tr("ev.span", start=clock(ev.start), end=clock(ev.end))
            if ev.start is not None and ev.end is not None and ev.end > ev.start
            else ""
        )
        return tr("ev.metric", name=name, value=value, limit=ev.limit or "") + span
    if ev.code == "manual" and ev.text != "decided by a reviewer":
        return ev.text  # the checklist's own hint, in its own language
    if ev.code == "unheard_speech":
        return tr("ev.unheard_speech", speaker=speaker, start=clock(ev.start), end=clock(ev.end))
    if ev.code == "roles_uncertain":
        return tr("ev.roles_uncertain", value=f"{ev.value:.2f}")
    if ev.code in ("no_speech", "operator_silent"):
        return tr(f"ev.{ev.code}")
    if ev.code == "unresolved_variable":
        return tr("ev.unresolved_variable", phrase=f"«{ev.phrase}»")
    if ev.code in ("condition_not_met", "forbidden_absent", "mono_speaker", "manual"):
        phrases = " / ".join(f"«{p.strip()}»" for p in (ev.phrase or "").split("/"))
        return tr(f"ev.{ev.code}", speaker=speaker, phrase=phrases)
    return ev.text


def current_user():
    """The logged-in user; pages are only routed to once someone is."""
    user = st.session_state.get("user")
    if user is None:
        st.stop()
    return user


def error_text(e: Exception) -> str:
    """A service error in the UI language when the catalogue knows it, else as worded."""
    from qa_review.ui.i18n import catalogue

    code = getattr(e, "code", None)
    if code and f"err.{code}" in catalogue():
        return tr(f"err.{code}", **getattr(e, "params", {}))
    return str(e)


def headed(df):
    """A frame with its column names in the UI language (catalogue keys colname.*)."""
    from qa_review.ui.i18n import catalogue

    known = catalogue()
    return df.rename(columns={c: tr(f"colname.{c}") for c in df.columns if f"colname.{c}" in known})


def go(screen: str) -> None:
    """Switch to another screen of the app (``calls``, ``call``, ...), wherever the app was started from."""
    from qa_review.ui.router import PAGES_DIR

    st.switch_page(st.Page(str(PAGES_DIR / f"{screen}.py"), url_path=screen))


def attempt(action, *args, success: str | None = None, **kwargs) -> None:
    """Run one service call: on a refusal show it in the user's language; when it went through,
    leave ``success`` for :func:`show_flash` and rerun so the page shows the new state.

    The service decides (permissions, states, windows); the page only says what it answered.
    """
    try:
        action(*args, **kwargs)
    except QAReviewError as e:
        st.error(error_text(e))
        return
    if success:
        st.session_state["flash"] = ("success", success)
    st.rerun()


def show_flash() -> None:
    """The success message an action left before the rerun."""
    flash = st.session_state.pop("flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])

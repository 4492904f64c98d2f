"""qa-review web app: the entry script is only a router (st.navigation)."""

import streamlit as st

from qa_review.i18n import LANGUAGES
from qa_review.webui import tr

st.set_page_config(page_title="qa-review", page_icon=":material/headphones:", layout="wide")

with st.sidebar:
    st.selectbox(
        "Язык / Language",
        LANGUAGES,
        key="lang",
        format_func=lambda code: {"ru": "Русский", "en": "English"}[code],
    )

pages = [
    st.Page("app_pages/calls.py", title=tr("nav.calls"), icon=":material/list:", url_path="calls", default=True),
    st.Page("app_pages/call.py", title=tr("nav.call"), icon=":material/headphones:", url_path="call"),
    st.Page("app_pages/checklists.py", title=tr("nav.checklists"), icon=":material/checklist:", url_path="checklists"),
]
st.navigation(pages).run()

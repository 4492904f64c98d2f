"""qa-review web app, for `streamlit run app.py` in a checkout (`qa-review serve` runs the same)."""

from pathlib import Path

import streamlit as st

from qa_review.ui.cookie_route import ROUTES

app = st.App(str(Path(__file__).parent / "qa_review" / "ui" / "app.py"), routes=ROUTES)

"""The web server `qa-review serve` runs: the app's pages plus the session-cookie route."""

import importlib.resources

import streamlit as st

from qa_review.ui.cookie_route import ROUTES

app = st.App(str(importlib.resources.files("qa_review.ui") / "app.py"), routes=ROUTES)

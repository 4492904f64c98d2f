"""The script Streamlit runs (`qa-review serve`); a checkout's top-level app.py runs the same."""

from qa_review.ui.router import main

main()

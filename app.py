"""qa-review web app, for `streamlit run app.py` in a checkout (`qa-review serve` runs the same)."""

from qa_review.ui.router import main

main()

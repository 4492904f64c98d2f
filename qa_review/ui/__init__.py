"""The Streamlit app: the router, the pages and their shared helpers."""

"""Checklists in the configured folders: what each checks, from which file, and why an invalid one is not loaded."""

import pandas as pd
import streamlit as st

from qa_review.services import scoring
from qa_review.ui.common import settings, tr

st.title(tr("checklists.title"))
st.caption(tr("checklists.folder", path=" → ".join(str(f) for f in settings().checklist_dirs)))
good, bad = scoring.checklists(settings())
for message in bad:
    st.error(tr("checklists.invalid") + "\n\n```\n" + message + "\n```")
if not good and not bad:
    st.info(tr("checklists.none"))
for lc in good:
    c = lc.checklist
    items = list(c.items())
    with st.expander(f"**{c.title}** · `{c.id}`", expanded=False):
        st.caption(
            tr(
                "checklists.summary",
                version=c.version,
                sections=len(c.sections),
                items=len(items),
                pass_mark=c.pass_mark if c.pass_mark is not None else "—",
            )
            + f" · {lc.source}"
        )
        st.dataframe(
            pd.DataFrame(
                {
                    tr("checklists.col_section"): [s.title or s.id for s, _ in items],
                    tr("checklists.col_item"): [i.title or i.id for _, i in items],
                    tr("checklists.col_kind"): [i.check.kind for _, i in items],
                    tr("checklists.col_weight"): [i.weight for _, i in items],
                    tr("checklists.col_critical"): ["✓" if i.critical else "" for _, i in items],
                }
            ),
            hide_index=True,
        )

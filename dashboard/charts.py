"""What every page shares: a chart's heading that says what it shows and which mart it reads,
and the number formats."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st


def heading(title: str, shows: str, *marts: str) -> None:
    """A chart's title, and a caption saying what it shows and which marts it reads."""
    st.subheader(title)
    st.caption(f"{shows} Reads {', '.join(f'`marts.{mart}`' for mart in marts)}.")


def chart(spec: alt.Chart | alt.LayerChart) -> None:
    st.altair_chart(spec, width="stretch")


def table(frame: pl.DataFrame, **column_config: object) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config)


def empty(frame: pl.DataFrame) -> bool:
    """Says so on the page when there is nothing to chart."""
    if frame.is_empty():
        st.info("No rows for this tenant, project and dates.")
        return True
    return False

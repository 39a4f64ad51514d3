"""The published marts, as the dashboard reads them: one read-only connection per query, to the
file `current` points at when the query runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from orchestration.publishing import DATABASE_FILE, current_publication
from orchestration.settings import Settings

MARTS_SCHEMA = "marts"


class NoPublication(LookupError):
    """No run has published the marts yet."""


def current_database() -> Path:
    """The database file of the current publication, with `current` resolved: a connection opened
    on this path reads that version to the end, whatever a run swaps in meanwhile."""
    link = current_publication(Settings.from_env()) / DATABASE_FILE
    try:
        return link.resolve(strict=True)
    except (FileNotFoundError, RuntimeError) as error:
        raise NoPublication(
            f"no published marts at {link}: run `make run` first (it builds the warehouse "
            "and publishes the marts)"
        ) from error


@st.cache_data(show_spinner=False, max_entries=1024)
def _read(database: str, sql: str, parameters: tuple[Any, ...]) -> pl.DataFrame:
    # Cached per publication file: the next publication is another file, so another entry.
    with duckdb.connect(database, read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        return connection.sql(sql, params=list(parameters)).pl()


def query(sql: str, parameters: Sequence[Any] = ()) -> pl.DataFrame:
    """Rows of `sql` on the current publication; user input goes in `parameters` only."""
    return _read(str(current_database()), sql, tuple(parameters))


def columns(mart: str) -> dict[str, str]:
    """Column name -> data type of a published mart, in table order (empty if not published)."""
    rows = query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [MARTS_SCHEMA, mart],
    )
    return dict(zip(rows["column_name"], rows["data_type"], strict=True))


def day_after(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)

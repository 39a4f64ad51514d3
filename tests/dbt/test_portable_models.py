"""The models stay plain selects in SQL another engine can run.

Performance machinery (chunking loops, optimizer settings, catalog probes) lives in macros, if
anywhere, no model or macro uses DuckDB's trailing comma before `from`, which Spark rejects, and
no model is a Python model, which dbt-spark cannot run in session mode (user agents are parsed by
the events landing, `orchestration/landing/user_agents.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODEL_FILES = sorted(
    path for path in (DBT_PROJECT / "models").rglob("*") if path.suffix in {".sql", ".yml"}
)
SQL_FILES = sorted(
    [*(DBT_PROJECT / "models").rglob("*.sql"), *(DBT_PROJECT / "macros").rglob("*.sql")]
)
MACHINERY = {
    "a bucket loop": re.compile(r"bucket", re.IGNORECASE),
    "an optimizer or engine setting": re.compile(
        r"disabled_optimizers|\bpragma\b|\bset\s+(threads|memory_limit)\b", re.IGNORECASE
    ),
    "a catalog probe": re.compile(
        r"duckdb_tables|information_schema|estimated_size|run_query|\bgraph\b", re.IGNORECASE
    ),
}
TRAILING_COMMA = re.compile(r",\s*\n\s*from\b", re.IGNORECASE)


def _relative(path: Path) -> str:
    return str(path.relative_to(DBT_PROJECT))


@pytest.mark.parametrize("kind", sorted(MACHINERY))
def test_no_model_holds_performance_machinery(kind: str) -> None:
    found = [_relative(path) for path in MODEL_FILES if MACHINERY[kind].search(path.read_text())]
    assert found == []


def test_no_model_or_macro_has_a_trailing_comma_before_from() -> None:
    found = [_relative(path) for path in SQL_FILES if TRAILING_COMMA.search(path.read_text())]
    assert found == []


def test_no_model_is_a_python_model() -> None:
    assert sorted(_relative(path) for path in (DBT_PROJECT / "models").rglob("*.py")) == []


def test_the_checks_read_the_project_files() -> None:
    assert {"int_event_sessions.sql", "sessions.sql", "_staging_events.yml"} <= {
        path.name for path in MODEL_FILES
    }

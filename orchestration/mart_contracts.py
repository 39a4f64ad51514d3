"""The marts' contracts (dbt_project/models/marts/*.yml) as DuckDB spells their types.

A mart's YAML declares each column's `data_type` in words both engines accept (`string`,
`bigint`, `timestamp`, ...), or, where DuckDB and Spark spell a type differently (maps, lists,
JSON), one per engine with dbt's Jinja:
`"{{ 'map<string, bigint>' if target.type == 'spark' else 'map(varchar, bigint)' }}"`. Readers
outside dbt (the Superset bundle, tests that build a publication) take the DuckDB one from here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_PER_ENGINE = re.compile(
    r"^\{\{\s*'(?P<spark>[^']*)'\s+if\s+target\.type\s*==\s*'spark'\s+else\s+'(?P<other>[^']*)'\s*\}\}$"
)


def duckdb_type(data_type: str) -> str:
    """The type DuckDB builds for a declared `data_type` (`string` is DuckDB's varchar)."""
    per_engine = _PER_ENGINE.match(data_type.strip())
    if per_engine:
        data_type = per_engine["other"]
    elif "{{" in data_type:
        raise ValueError(f"cannot read the data_type {data_type!r} outside dbt")
    return "varchar" if data_type.strip().lower() == "string" else data_type.strip()


def declared_models(marts_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Model name -> its declared columns (name, DuckDB data_type, description), in YAML order."""
    models = {}
    for path in sorted(marts_dir.glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            models[model["name"]] = [
                {**column, "data_type": duckdb_type(column["data_type"])}
                for column in model.get("columns", [])
            ]
    return models

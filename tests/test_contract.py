"""The landing contract is the one source of truth: the dbt sources must agree with it."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import yaml

from orchestration.contract import DATASETS, EVENTS, METRICS, ColumnType
from orchestration.landing.user_agents import USER_AGENT_COLUMNS
from orchestration.mart_contracts import declared_models
from orchestration.settings import PROJECT_ROOT

SOURCES_YAML = PROJECT_ROOT / "dbt_project" / "models" / "staging" / "_sources.yml"


def dbt_source_tables() -> dict[str, list[tuple[str, str]]]:
    sources = yaml.safe_load(SOURCES_YAML.read_text())["sources"]
    [raw] = [source for source in sources if source["name"] == "raw"]
    return {
        table["name"]: [(c["name"], c["data_type"].upper()) for c in table["columns"]]
        for table in raw["tables"]
    }


def test_dbt_sources_declare_the_contract_columns_and_types_in_order():
    tables = dbt_source_tables()

    for dataset in DATASETS.values():
        assert tables[dataset.name] == [(c.name, c.type.duckdb) for c in dataset.table_columns()]


def dbt_source_descriptions() -> dict[str, dict[str, str]]:
    sources = yaml.safe_load(SOURCES_YAML.read_text())["sources"]
    [raw] = [source for source in sources if source["name"] == "raw"]
    return {
        table["name"]: {c["name"]: c["description"] for c in table["columns"]}
        for table in raw["tables"]
    }


def test_every_dbt_source_column_has_the_contract_description():
    descriptions = dbt_source_descriptions()

    for dataset in DATASETS.values():
        assert descriptions[dataset.name] == {
            c.name: c.description for c in dataset.table_columns()
        }


def test_the_dbt_source_of_the_parsed_user_agents_declares_the_landing_table():
    assert dbt_source_tables()["user_agents"] == [(name, t) for name, t, _ in USER_AGENT_COLUMNS]
    assert dbt_source_descriptions()["user_agents"] == {
        name: description for name, _, description in USER_AGENT_COLUMNS
    }


def test_required_columns_are_not_nullable_in_the_landing_file_schema():
    schema = EVENTS.arrow_schema()

    assert not schema.field("message_id").nullable
    assert schema.field("user_id").nullable
    assert schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")


def test_metrics_contract_has_a_finite_double_value_and_a_tags_object():
    assert METRICS.column("value").type is ColumnType.DOUBLE
    assert METRICS.column("tags").json_string_values
    assert METRICS.key == ("tenant_id", "metric_id")


def test_every_mart_column_type_reads_as_a_duckdb_type_outside_dbt():
    # Per-engine types ("{{ 'map<string, bigint>' if target.type == 'spark' else ... }}")
    # render to DuckDB's, and DuckDB takes every declared type as it is spelled.
    models = declared_models(PROJECT_ROOT / "dbt_project" / "models" / "marts")
    types = {column["data_type"] for columns in models.values() for column in columns}

    assert "map(varchar, bigint)" in types and "json" in types and "string" not in types
    for data_type in types:
        duckdb.sql(f"select cast(null as {data_type})").fetchall()

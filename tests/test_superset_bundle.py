"""The Superset bundle of superset/bundle/: what superset/overview.py writes, over the marts'
columns, read-only. (tests/test_superset.py imports it into a running Superset.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from superset.overview import BUNDLE_DIR, CHARTS, DATASETS, mart_columns, write_bundle

ROOT = Path(__file__).resolve().parent.parent


def bundle(directory: Path) -> dict[str, str]:
    return {
        path.relative_to(directory).as_posix(): path.read_text()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def bundle_yaml(kind: str) -> list[dict]:
    return [
        yaml.safe_load(path.read_text()) for path in sorted((BUNDLE_DIR / kind).rglob("*.yaml"))
    ]


@pytest.fixture
def mart_tables() -> duckdb.DuckDBPyConnection:
    """Empty tables of the bundle's marts, in the types their contracts declare."""
    connection = duckdb.connect()
    for dataset in DATASETS:
        columns = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in mart_columns(dataset.mart))
        connection.execute(f"create table {dataset.mart} ({columns})")
    return connection


def test_the_bundle_in_the_repository_is_what_overview_py_writes(tmp_path):
    write_bundle(tmp_path / "bundle")
    assert bundle(BUNDLE_DIR) == bundle(tmp_path / "bundle"), (
        "superset/bundle/ is out of date: run `.venv/bin/python superset/overview.py`"
    )


def test_each_dataset_has_the_columns_of_its_mart():
    for dataset in bundle_yaml("datasets"):
        physical = [c["column_name"] for c in dataset["columns"] if c["expression"] is None]
        assert physical == [c["name"] for c in mart_columns(dataset["table_name"])]
        assert dataset["schema"] == "marts"


def test_every_metric_and_computed_column_is_sql_over_its_mart_s_columns(mart_tables):
    """DuckDB binds each expression against the mart's columns; a sum of BIGINTs would be a
    HUGEINT, which Superset cannot read, so no metric returns one."""
    for dataset in bundle_yaml("datasets"):
        expressions = [m["expression"] for m in dataset["metrics"]] + [
            c["expression"] for c in dataset["columns"] if c["expression"] is not None
        ]
        for expression in expressions:
            (data_type,) = mart_tables.execute(
                f"select typeof({expression}) from (from {dataset['table_name']} limit 0) "
                f"right join (select 1) on true"
            ).fetchone()
            assert "HUGEINT" not in data_type, f"{dataset['table_name']}: {expression}"


def test_every_column_and_metric_a_chart_names_is_in_its_dataset():
    datasets = {d["uuid"]: d for d in bundle_yaml("datasets")}
    for chart in bundle_yaml("charts"):
        dataset = datasets[chart["dataset_uuid"]]
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        params = chart["params"]
        named_columns = (
            params.get("groupby", [])
            + params.get("all_columns", [])
            + [params[key] for key in ("x_axis",) if key in params]
            + [f["subject"] for f in params["adhoc_filters"]]
        )
        named_metrics = params.get("metrics", []) + [params[k] for k in ("metric",) if k in params]
        assert set(named_columns) <= columns, chart["slice_name"]
        assert set(named_metrics) <= metrics, chart["slice_name"]


def test_the_dashboard_places_every_chart_once():
    (dashboard,) = bundle_yaml("dashboards")
    placed = [
        item["meta"]["uuid"]
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item["type"] == "CHART"
    ]
    assert sorted(placed) == sorted(chart.uuid for chart in CHARTS)


def test_the_database_is_opened_read_only_without_access_to_other_files():
    (database,) = bundle_yaml("databases")
    assert database["sqlalchemy_uri"].endswith("?access_mode=read_only")
    config = database["extra"]["engine_params"]["connect_args"]["config"]
    assert config == {"enable_external_access": False}
    assert not database["allow_dml"] and not database["allow_file_upload"]


def test_without_a_publication_the_local_superset_says_to_run_make_run_first(tmp_path):
    missing = tmp_path / "published" / "current" / "analytics.duckdb"
    result = subprocess.run(
        [sys.executable, str(ROOT / "superset" / "local.py"), "--publication", str(missing)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"No publication yet: {missing} does not exist. Run `make run` first" in result.stderr


def test_each_connection_opens_the_version_current_points_at_when_it_connects(tmp_path):
    """superset_config.py resolves the `current` link per connection (DuckDB 1.4 would hand a
    new connection the instance of the version it pointed at before a swap)."""
    (tmp_path / "versions" / "v2").mkdir(parents=True)
    (tmp_path / "current").symlink_to(Path("versions") / "v2")
    script = (
        "import runpy, sqlalchemy\n"
        f"config = runpy.run_path({str(ROOT / 'superset' / 'superset_config.py')!r})\n"
        f"url = sqlalchemy.engine.make_url('duckdb:///{tmp_path}/current/analytics.duckdb')\n"
        "print(config['DB_CONNECTION_MUTATOR'](url, {}, None, None, None)[0].database)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"SUPERSET_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == str(tmp_path / "versions" / "v2" / "analytics.duckdb")

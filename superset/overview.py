"""The overview dashboard as Superset bundle YAML, written from the description below.

    python superset/overview.py          rewrites superset/bundle/ (commit what changes)

The bundle is what Superset exports and imports: metadata.yaml, databases/, datasets/, charts/
and dashboards/. Each dataset is a published mart; its columns and their descriptions come from
the mart's YAML in dbt_project/models/marts/, so the bundle cannot name a column the mart does
not have. Every chart carries the query Superset runs for it (its saved query context), which is
what `/api/v1/chart/<id>/data/` answers and what the tests compare with SQL on the marts.

The database's path in the bundle is a placeholder: `superset/local.py` zips the bundle with the
path of the publication a Superset should read.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MARTS_DIR = ROOT / "dbt_project" / "models" / "marts"
BUNDLE_DIR = Path(__file__).resolve().parent / "bundle"

# Stable identifiers: the same description always gives the same UUIDs, so a re-import updates
# the objects a team already has instead of adding copies.
NAMESPACE = uuid.UUID("6f1d2c1e-6a0b-4f51-9c43-0b6e3d1f9a20")
VERSION = "1.0.0"
SCHEMA = "marts"
DATABASE_NAME = "Analytics warehouse (published marts)"
PLACEHOLDER_DATABASE_PATH = "/path/to/warehouse/published/current/analytics.duckdb"
DASHBOARD_TITLE = "Product analytics overview"
ROW_LIMIT = 10_000
TOP_ROWS = 10

# How each contract type of the marts' YAML reads in the publication (timestamps are UTC
# instants there, JSON is text).
PUBLISHED_TYPES = {
    "varchar": "VARCHAR",
    "json": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
}


def stable_uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


def duckdb_uri(database_path: str) -> str:
    """Read-only: a dashboard never writes, and never holds a lock a run would wait for."""
    return f"duckdb:///{database_path}?access_mode=read_only"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    expression: str
    d3format: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A published mart, with the metrics its charts use and columns computed from its own."""

    mart: str
    metrics: tuple[Metric, ...]
    computed_columns: dict[str, str] = field(default_factory=dict)

    @property
    def uuid(self) -> str:
        return stable_uuid("dataset", self.mart)


@dataclass(frozen=True)
class Filter:
    column: str
    operator: str  # "IN" or "IS NOT NULL"
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Chart:
    """One chart of the overview. `kind`: `number` (one metric), `table` (rows of `columns`),
    `ranking` (metrics by `columns`, largest first), `trend` (metrics per day of `columns[0]`)
    or `share` (one metric by `columns[0]`, as a pie)."""

    title: str
    description: str
    dataset: Dataset
    kind: str
    metrics: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    order_by: tuple[str, ...] = ()
    row_limit: int = ROW_LIMIT

    @property
    def uuid(self) -> str:
        return stable_uuid("chart", self.title)


SESSIONS = Dataset(
    "sessions",
    metrics=(
        Metric("visitors", "Visitors", "COUNT(DISTINCT person_id)", ",d"),
        Metric("sessions", "Sessions", "COUNT(*)", ",d"),
        # A sum of BIGINTs is a 128-bit integer in DuckDB, which Superset cannot read.
        Metric("page_views", "Page views", "CAST(SUM(page_view_count) AS BIGINT)", ",d"),
        Metric(
            "bounce_rate",
            "Bounce rate",
            "AVG(CASE WHEN is_bounce THEN 1.0 WHEN NOT is_bounce THEN 0.0 END)",
            ".1%",
        ),
    ),
    computed_columns={
        "source": "COALESCE(referrer_host, '(direct or none)')",
        "country": "COALESCE(country_code, '(unknown)')",
    },
)
PAGES = Dataset(
    "page_analytics_daily",
    metrics=(
        Metric("page_views", "Page views", "CAST(SUM(page_views) AS BIGINT)", ",d"),
        Metric("entrances", "Entrances", "CAST(SUM(entrances) AS BIGINT)", ",d"),
        Metric("exits", "Exits", "CAST(SUM(exits) AS BIGINT)", ",d"),
        Metric(
            "bounce_rate",
            "Bounce rate",
            "CAST(SUM(bounces) AS DOUBLE) / NULLIF(SUM(entrances), 0)",
            ".1%",
        ),
    ),
)
KPIS = Dataset(
    "dashboard_metrics",
    metrics=(Metric("value", "Value (all projects)", "SUM(current_value)", ",.0f"),),
)
ACTIVITY = Dataset(
    "user_activity_daily",
    metrics=(
        Metric("active_persons", "Active persons", "COUNT(DISTINCT person_id)", ",d"),
        Metric(
            "new_users", "New users", "COUNT(DISTINCT CASE WHEN is_new_user THEN person_id END)"
        ),
    ),
)
DATASETS = (KPIS, SESSIONS, PAGES, ACTIVITY)


def kpi_tile(title: str, kpi: str) -> Chart:
    return Chart(
        title,
        f"The `{kpi}` KPI over the 7 days ending on the latest complete day, all projects "
        "added (mart dashboard_metrics; the table below has each project's previous value "
        "and change).",
        KPIS,
        "number",
        metrics=("value",),
        filters=(Filter("kpi", "IN", (kpi,)), Filter("period_days", "IN", (7,))),
    )


CHARTS = (
    kpi_tile("Visitors, last 7 days", "wau"),
    kpi_tile("Sessions, last 7 days", "sessions"),
    kpi_tile("New users, last 7 days", "new_users"),
    kpi_tile("Revenue, last 7 days", "revenue"),
    Chart(
        "KPIs against the previous period",
        "Each KPI of each project over the last 1, 7 or 30 days ending on the latest complete "
        "day, the previous period of equal length and the change in percent (mart "
        "dashboard_metrics).",
        KPIS,
        "table",
        columns=(
            "tenant_id",
            "project_id",
            "kpi",
            "period_days",
            "current_value",
            "previous_value",
            "change_percent",
            "as_of_date",
        ),
        order_by=("tenant_id", "project_id", "kpi", "period_days"),
    ),
    Chart(
        "Daily visitors, sessions and page views",
        "Distinct visitors, sessions and their page views per day the sessions started "
        "(mart sessions; bots excluded).",
        SESSIONS,
        "trend",
        metrics=("visitors", "sessions", "page_views"),
        columns=("session_date",),
    ),
    Chart(
        "Daily active and new users",
        "Persons active per day and those whose first event was that day "
        "(mart user_activity_daily).",
        ACTIVITY,
        "trend",
        metrics=("active_persons", "new_users"),
        columns=("activity_date",),
    ),
    Chart(
        "Top pages",
        "The most viewed page paths, with entrances, exits and the bounce rate of the "
        "entrances (mart page_analytics_daily).",
        PAGES,
        "ranking",
        metrics=("page_views", "entrances", "exits", "bounce_rate"),
        columns=("page_path",),
        row_limit=TOP_ROWS,
    ),
    Chart(
        "Top referrers",
        "Sessions and visitors by the referrer host of the session's entry (mart sessions).",
        SESSIONS,
        "ranking",
        metrics=("sessions", "visitors", "bounce_rate"),
        columns=("source",),
        row_limit=TOP_ROWS,
    ),
    Chart(
        "UTM campaigns",
        "Sessions by the UTM source, medium and campaign of their entry page, for the "
        "sessions that have a UTM source (mart sessions).",
        SESSIONS,
        "ranking",
        metrics=("sessions", "visitors"),
        columns=("utm_source", "utm_medium", "utm_campaign"),
        filters=(Filter("utm_source", "IS NOT NULL"),),
        row_limit=TOP_ROWS,
    ),
    Chart(
        "Devices",
        "Share of sessions by device type (mart sessions).",
        SESSIONS,
        "share",
        metrics=("sessions",),
        columns=("device_type",),
    ),
    Chart(
        "Countries",
        "Sessions and visitors by country of the session (mart sessions).",
        SESSIONS,
        "ranking",
        metrics=("sessions", "visitors"),
        columns=("country",),
        row_limit=TOP_ROWS,
    ),
)
# The dashboard's rows: the charts of each, with their widths on a grid of 12 and a height.
LAYOUT: tuple[tuple[tuple[str, ...], tuple[int, ...], int], ...] = (
    (
        (
            "Visitors, last 7 days",
            "Sessions, last 7 days",
            "New users, last 7 days",
            "Revenue, last 7 days",
        ),
        (3, 3, 3, 3),
        20,
    ),
    (("KPIs against the previous period",), (12,), 60),
    (("Daily visitors, sessions and page views", "Daily active and new users"), (8, 4), 50),
    (("Top pages", "Top referrers"), (6, 6), 50),
    (("UTM campaigns", "Devices", "Countries"), (6, 3, 3), 50),
)


def mart_columns(mart: str) -> list[dict[str, Any]]:
    """The columns of a mart as its YAML declares them: name, data_type, description."""
    # The project's reader of the contracts; imported here, as Superset's own environment
    # (superset/local.py) imports this module for its paths without the project installed.
    from orchestration.mart_contracts import declared_models

    return declared_models(MARTS_DIR)[mart]


def published_type(data_type: str) -> str:
    return PUBLISHED_TYPES.get(data_type.lower(), data_type.upper())


def _database() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": duckdb_uri(PLACEHOLDER_DATABASE_PATH),
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            # Without it, SQL Lab could read any file the server can (read_csv('/etc/...')).
            "engine_params": {"connect_args": {"config": {"enable_external_access": False}}},
        },
        "uuid": stable_uuid("database", DATABASE_NAME),
        "version": VERSION,
    }


def _column(name: str, data_type: str, description: str | None, expression: str | None):
    return {
        "column_name": name,
        "verbose_name": None,
        "is_dttm": data_type.startswith(("DATE", "TIMESTAMP")),
        "is_active": True,
        "type": data_type,
        "advanced_data_type": None,
        "groupby": True,
        "filterable": True,
        "expression": expression,
        "description": description,
        "python_date_format": None,
        "extra": None,
    }


def _dataset(dataset: Dataset) -> dict[str, Any]:
    columns = [
        _column(
            c["name"],
            published_type(c["data_type"]),
            " ".join(c.get("description", "").split()),
            None,
        )
        for c in mart_columns(dataset.mart)
    ]
    columns += [
        _column(name, "VARCHAR", f"{expression} (computed by the dataset)", expression)
        for name, expression in dataset.computed_columns.items()
    ]
    return {
        "table_name": dataset.mart,
        "main_dttm_col": None,
        "description": f"The published mart {SCHEMA}.{dataset.mart}.",
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": dataset.uuid,
        "metrics": [
            {
                "metric_name": m.name,
                "verbose_name": m.label,
                "metric_type": None,
                "expression": m.expression,
                "description": None,
                "d3format": m.d3format,
                "currency": None,
                "extra": None,
                "warning_text": None,
            }
            for m in dataset.metrics
        ],
        "columns": columns,
        "version": VERSION,
        "database_uuid": _database()["uuid"],
    }


def _adhoc_filter(f: Filter) -> dict[str, Any]:
    return {
        "expressionType": "SIMPLE",
        "clause": "WHERE",
        "subject": f.column,
        "operator": f.operator,
        "comparator": list(f.values) if f.values else None,
    }


def _query_filter(f: Filter) -> dict[str, Any]:
    return (
        {"col": f.column, "op": f.operator, "val": list(f.values)}
        if f.values
        else {
            "col": f.column,
            "op": f.operator,
        }
    )


def _form_data(chart: Chart) -> dict[str, Any]:
    """The chart's controls, as Superset's explore view saves them."""
    common = {
        "viz_type": VIZ_TYPES[chart.kind],
        "adhoc_filters": [_adhoc_filter(f) for f in chart.filters],
        "row_limit": chart.row_limit,
        "extra_form_data": {},
        "dashboards": [],
    }
    if chart.kind == "number":
        return common | {
            "metric": chart.metrics[0],
            "header_font_size": 0.4,
            "subheader_font_size": 0.15,
            "y_axis_format": "SMART_NUMBER",
        }
    if chart.kind == "table":
        return common | {
            "query_mode": "raw",
            "all_columns": list(chart.columns),
            "order_by_cols": [json.dumps([c, True]) for c in chart.order_by],
            "server_pagination": False,
            "table_timestamp_format": "%Y-%m-%d",
        }
    if chart.kind == "ranking":
        return common | {
            "query_mode": "aggregate",
            "groupby": list(chart.columns),
            "metrics": list(chart.metrics),
            "timeseries_limit_metric": chart.metrics[0],
            "order_desc": True,
            "server_pagination": False,
        }
    if chart.kind == "trend":
        return common | {
            "x_axis": chart.columns[0],
            "time_grain_sqla": "P1D",
            "metrics": list(chart.metrics),
            "groupby": [],
            "order_desc": True,
            "show_legend": True,
            "legendOrientation": "top",
            "rich_tooltip": True,
            "x_axis_time_format": "%Y-%m-%d",
            "y_axis_format": "SMART_NUMBER",
            "markerEnabled": True,
        }
    if chart.kind == "share":
        return common | {
            "groupby": list(chart.columns),
            "metric": chart.metrics[0],
            "sort_by_metric": True,
            "show_labels": True,
            "label_type": "key_percent",
            "labels_outside": True,
            "show_legend": False,
        }
    raise ValueError(f"chart {chart.title!r}: unknown kind {chart.kind!r}")


VIZ_TYPES = {
    "number": "big_number_total",
    "table": "table",
    "ranking": "table",
    "trend": "echarts_timeseries_line",
    "share": "pie",
}


def _query(chart: Chart) -> dict[str, Any]:
    """The one query of the chart, as Superset's front end builds it from the form data."""
    query: dict[str, Any] = {
        "filters": [_query_filter(f) for f in chart.filters],
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": list(chart.columns),
        "metrics": list(chart.metrics),
        "orderby": [[m, False] for m in chart.metrics[:1]],
        "annotation_layers": [],
        "row_limit": chart.row_limit,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "post_processing": [],
    }
    if chart.kind == "table":
        query |= {"metrics": [], "orderby": [[c, True] for c in chart.order_by]}
    elif chart.kind == "trend":
        axis = chart.columns[0]
        query |= {
            "columns": [
                {
                    "columnType": "BASE_AXIS",
                    "expressionType": "SQL",
                    "label": axis,
                    "sqlExpression": axis,
                    "timeGrain": "P1D",
                }
            ],
            "orderby": [[chart.metrics[0], False]],
            "series_columns": [],
            "time_offsets": [],
            "post_processing": [
                {
                    "operation": "pivot",
                    "options": {
                        "index": [axis],
                        "columns": [],
                        "aggregates": {m: {"operator": "mean"} for m in chart.metrics},
                        "drop_missing_columns": False,
                    },
                },
                {"operation": "flatten"},
            ],
        }
    return query


def _chart(chart: Chart) -> dict[str, Any]:
    form_data = _form_data(chart)
    query_context = {
        # The ids are the exporting instance's; an import replaces them with the dataset's own.
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [_query(chart)],
        "form_data": form_data | {"datasource": "0__table"},
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": chart.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": VIZ_TYPES[chart.kind],
        "params": form_data,
        "query_context": json.dumps(query_context, sort_keys=True),
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": VERSION,
        "dataset_uuid": chart.dataset.uuid,
    }


def _native_filter(column: str, name: str) -> dict[str, Any]:
    return {
        "id": f"NATIVE_FILTER-{column}",
        "name": name,
        "filterType": "filter_select",
        "type": "NATIVE_FILTER",
        "description": f"Applies to every chart: each mart is keyed by {column}.",
        "targets": [{"column": {"name": column}, "datasetUuid": SESSIONS.uuid}],
        "controlValues": {
            "enableEmptyFilter": False,
            "multiSelect": True,
            "searchAllOptions": False,
            "inverseSelection": False,
            "defaultToFirstItem": False,
        },
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
    }


def _dashboard() -> dict[str, Any]:
    charts = {chart.title: chart for chart in CHARTS}
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": DASHBOARD_TITLE}},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "parents": ["ROOT_ID"], "children": []},
    }
    chart_number = 0
    for row_number, (titles, widths, height) in enumerate(LAYOUT, start=1):
        row_id = f"ROW-{row_number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "id": row_id,
            "type": "ROW",
            "parents": ["ROOT_ID", "GRID_ID"],
            "children": [],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for title, width in zip(titles, widths, strict=True):
            chart_number += 1
            chart_id = f"CHART-{charts[title].uuid[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "id": chart_id,
                "type": "CHART",
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "children": [],
                # chartId is the exporting instance's; an import replaces it.
                "meta": {
                    "chartId": chart_number,
                    "uuid": charts[title].uuid,
                    "sliceName": title,
                    "width": width,
                    "height": height,
                },
            }
    return {
        "dashboard_title": DASHBOARD_TITLE,
        "description": None,
        "css": "",
        "slug": "product-analytics-overview",
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": stable_uuid("dashboard", DASHBOARD_TITLE),
        "position": position,
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "default_filters": "{}",
            "native_filter_configuration": [
                _native_filter("tenant_id", "Tenant"),
                _native_filter("project_id", "Project"),
            ],
        },
        "version": VERSION,
    }


def _file_name(title: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in title).strip("_")


def bundle_files() -> dict[str, dict[str, Any]]:
    """Every file of the bundle (its path inside the bundle) and its content."""
    files: dict[str, dict[str, Any]] = {
        # No `type`: Superset checks it only when present, so the one bundle imports as a
        # dashboard export (Dashboards > Import) and through the assets import API.
        "metadata.yaml": {"version": VERSION, "timestamp": "2026-01-01T00:00:00+00:00"},
        "databases/analytics_warehouse.yaml": _database(),
    }
    for dataset in DATASETS:
        files[f"datasets/analytics_warehouse/{dataset.mart}.yaml"] = _dataset(dataset)
    for chart in CHARTS:
        files[f"charts/{_file_name(chart.title)}.yaml"] = _chart(chart)
    files[f"dashboards/{_file_name(DASHBOARD_TITLE)}.yaml"] = _dashboard()
    return files


def render(content: dict[str, Any]) -> str:
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)


def write_bundle(directory: Path = BUNDLE_DIR) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    for name, content in bundle_files().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(content))


if __name__ == "__main__":
    write_bundle()
    print(f"wrote {BUNDLE_DIR.relative_to(ROOT)}/")

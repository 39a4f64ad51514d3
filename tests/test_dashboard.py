"""The dashboard's pages, run with Streamlit's app-testing API over a small publication of
hand-written mart rows (tests/test_dashboard_publication.py): each page runs, draws its charts,
and shows the numbers that SQL on the marts gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import PAGES
from dashboard.publication import current_database
from tests.test_dashboard_publication import D1, D2, D3, MART_ROWS, OTHER, kpi, publish

APP = Path(__file__).parent.parent / "dashboard" / "app.py"
# The tables of the acquisition page, in page order.
CHANNELS, CREDITED, MODELS_COMPARED, REFERRERS, CAMPAIGNS = range(5)
CHARTS_PER_PAGE = {
    "overview.py": 1,
    "pages.py": 3,
    "acquisition.py": 6,
    "audience.py": 4,
    "funnels.py": 2,
    "retention.py": 1,
    "features.py": 2,
    "metrics.py": 1,
    "deployments.py": 2,
}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
    return publish(tmp_path, "v1", MART_ROWS)


def run_page(page: str = "overview.py") -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    if page != "overview.py":
        app.switch_page(f"views/{page}")
        app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def sql(database: Path, query: str) -> pl.DataFrame:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(query).pl()


def charts(app: AppTest) -> list:
    return list(app.get("vega_lite_chart"))


def chart_data(chart) -> pl.DataFrame:
    """The rows a chart was given (Streamlit sends them as Arrow IPC beside the spec)."""
    (dataset,) = chart.proto.datasets
    return pl.from_arrow(pa.ipc.open_stream(dataset.data.data).read_all())


def table(app: AppTest, index: int = 0) -> pl.DataFrame:
    return pl.from_pandas(app.dataframe[index].value)


@pytest.mark.parametrize("page", list(CHARTS_PER_PAGE))
def test_every_page_runs_and_draws_its_charts(database, page):
    assert len(charts(run_page(page))) == CHARTS_PER_PAGE[page]


def test_every_page_of_the_navigation_is_tested():
    assert [file for file, _, _ in PAGES] == list(CHARTS_PER_PAGE)


@pytest.mark.parametrize("page", list(CHARTS_PER_PAGE))
def test_every_chart_says_what_it_shows_and_which_mart_it_reads(database, page):
    app = run_page(page)
    reads = [caption.value for caption in app.caption if "Reads `marts." in caption.value]
    assert len(reads) == len(app.subheader) >= 1


def test_the_kpi_tiles_show_the_value_the_previous_value_and_the_change(database):
    tiles = [
        (metric.label, metric.value, metric.delta, metric.proto.delta_description)
        for metric in run_page().metric
    ]
    assert tiles == [
        ("Active persons · 1 d", "3", "+50.0%", "previous 1 d: 2"),
        ("Sessions · 1 d", "4", "+0.0%", "previous 1 d: 4"),
        ("Avg session duration · 7 d", "1 min 35 s", "", "previous 7 d: -"),
        ("Bounce rate · 7 d", "25.0%", "-50.0%", "previous 7 d: 50.0%"),
        ("Revenue · 7 d", "12.50", "+25.0%", "previous 7 d: 10.00"),
    ]


def test_a_lower_bounce_rate_is_shown_as_an_improvement(database):
    tiles = {metric.label: metric.proto for metric in run_page().metric}
    bounce_rate, revenue = tiles["Bounce rate · 7 d"], tiles["Revenue · 7 d"]
    # Both changes show in green: the bounce rate fell, the revenue rose.
    assert (bounce_rate.direction, revenue.direction) == (bounce_rate.DOWN, revenue.UP)
    assert bounce_rate.color == revenue.color == bounce_rate.GREEN


def test_the_tiles_are_those_of_the_tenant_and_project_chosen(database):
    app = run_page()
    app.sidebar.selectbox(key="filter_tenant").set_value(OTHER["tenant_id"]).run()
    assert [(metric.label, metric.value) for metric in app.metric] == [
        ("Active persons · 1 d", "100")
    ]


def test_the_daily_trend_counts_visitors_sessions_and_page_views(database):
    (trend,) = charts(run_page())
    shown = chart_data(trend).pivot("measure", index="day", values="count").sort("day")
    assert shown.rows() == [
        (D1, 2, 3, 7),
        (D2, 1, 1, 0),
        (D3, 0, 0, 1),
    ]
    assert shown.columns == ["day", "visitors", "sessions", "page_views"]


def test_the_date_range_narrows_the_trend(database):
    app = run_page()
    app.sidebar.date_input(key="filter_dates").set_value((D2, D3)).run()
    (trend,) = charts(app)
    assert sorted(set(chart_data(trend)["day"])) == [D2, D3]


def test_the_pages_table_adds_up_the_days_and_devices_of_each_page(database):
    shown = table(run_page("pages.py"))
    assert shown.select("page_path", "page_views", "entrances", "exits").rows() == [
        ("/home", 6, 4, 3),
        ("/pricing", 2, 0, 1),
    ]
    home = shown.row(0, named=True)
    assert home["bounce_rate"] == 0.5  # 2 bounces of 4 entrances
    assert home["avg_time_on_page_seconds"] == 15.0  # (5 x 10 + 1 x 40) / 6
    assert home["avg_scroll_depth"] == 50.0  # the mobile day reported none


def test_the_pages_table_shows_engaged_time_beside_time_on_page(database):
    shown = table(run_page("pages.py"))
    columns = shown.columns
    assert (
        columns.index("avg_engaged_time_seconds") == columns.index("avg_time_on_page_seconds") + 1
    )
    # /home: (5 x 6 + 1 x 12) / 6; /pricing reported no time on page, but engaged time.
    assert shown.select("page_path", "avg_engaged_time_seconds").rows() == [
        ("/home", 7.0),
        ("/pricing", 20.0),
    ]


def test_the_channels_of_a_page_add_up_its_days_and_recompute_the_rates(database):
    shown = table(run_page("pages.py"), 1)
    assert shown.select("channel", "page_views", "entrances", "exits").rows() == [
        ("Organic Search", 4, 3, 2),
        ("Email", 2, 1, 1),
    ]
    organic = shown.row(0, named=True)
    assert organic["bounce_rate"] == 1 / 3  # 0 of 2 entrances on D1, 1 of 1 on D3
    assert organic["avg_time_on_page_seconds"] == 17.5  # (3 x 10 + 1 x 40) / 4
    assert organic["avg_engaged_time_seconds"] == 9.0  # (3 x 8 + 1 x 12) / 4


def test_the_channels_of_the_page_chosen_are_shown(database):
    app = run_page("pages.py")
    assert app.selectbox(key="channels_page").options == ["/home", "/pricing"]
    app.selectbox(key="channels_page").set_value("/pricing").run()
    assert table(app, 1).select("channel", "page_views").rows() == [("Direct", 2)]


def test_the_channels_table_adds_up_the_days_of_each_channel(database):
    shown = table(run_page("acquisition.py"), CHANNELS)
    assert shown.select(
        "channel", "sessions", "engaged_sessions", "conversions", "revenue"
    ).rows() == [
        ("Organic Search", 3, 2, 3, 60.0),
        ("Direct", 1, 1, 1, 40.0),
        ("Email", 1, 0, 0, 0.0),
        ("Referral", 1, 1, 1, 10.0),
    ]


def test_channel_rates_are_recomputed_from_the_sums_of_the_days(database):
    organic = table(run_page("acquisition.py"), CHANNELS).row(0, named=True)
    # Organic Search: 1 of 2 sessions converting on D1, 1 of 1 on D2 (their mean is 0.75), and
    # 3 conversion events in the 2 converting sessions.
    assert organic["conversion_rate"] == pytest.approx(2 / 3)
    assert organic["engagement_rate"] == pytest.approx(2 / 3)
    assert organic["bounce_rate"] == pytest.approx(1 / 3)  # the daily rates: 0.5 and 0
    assert organic["avg_engaged_time_seconds"] == pytest.approx((60 + 4 + 30) / 3)


def test_channel_visitors_are_distinct_persons_over_the_dates(database):
    shown = table(run_page("acquisition.py"), CHANNELS)
    # Organic Search: p2 and p3 on D1, p2 again on D2 - 3 daily visitors, 2 persons.
    assert shown.select("channel", "visitors").rows() == [
        ("Organic Search", 2),
        ("Direct", 1),
        ("Email", 1),
        ("Referral", 1),
    ]


def test_a_channel_without_page_views_has_no_bounce_rate_or_engaged_time(database):
    shown = table(run_page("acquisition.py"), CHANNELS)
    direct = shown.filter(pl.col("channel") == "Direct").row(0, named=True)
    assert (direct["bounce_rate"], direct["avg_engaged_time_seconds"]) == (None, None)


def test_sessions_by_channel_over_time_are_stacked_largest_channel_first(database):
    over_time = chart_data(charts(run_page("acquisition.py"))[1])
    assert over_time.select("session_date", "channel", "sessions", "channel_rank").rows() == [
        (D1, "Direct", 1, 1),
        (D1, "Email", 1, 2),
        (D1, "Organic Search", 2, 0),
        (D2, "Organic Search", 1, 0),
        (D2, "Referral", 1, 3),
    ]


def test_attribution_credits_the_channels_last_non_direct_by_default(database):
    app = run_page("acquisition.py")
    assert app.selectbox(key="attribution_model").value == "last_non_direct"
    # c1, c5, c2 (in a Direct session after an Organic Search one) and c4, worth 20 + 10 + 40
    # + 30; c3 in Referral.
    assert table(app, CREDITED).rows() == [
        ("Organic Search", 4.0, 0.8, 100.0),
        ("Referral", 1.0, 0.2, 10.0),
    ]


def test_another_attribution_model_shares_the_credit_its_way(database):
    app = run_page("acquisition.py")
    app.selectbox(key="attribution_model").set_value("linear").run()
    shown = table(app, CREDITED)
    assert shown["channel"].to_list() == ["Organic Search", "Direct", "Email", "Referral"]
    # Organic Search: c1 and c5 whole, half of c2, two thirds of c4.
    assert shown["conversions"].to_list() == pytest.approx([1 + 1 + 1 / 2 + 2 / 3, 5 / 6, 0.5, 0.5])
    assert shown["attributed_value"].to_list() == pytest.approx([70.0, 30.0, 5.0, 5.0])


def test_the_models_compared_have_a_column_each_and_credit_every_conversion_once(database):
    shown = table(run_page("acquisition.py"), MODELS_COMPARED)
    assert shown.columns == [
        "channel",
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "position_based",
    ]
    # In the order of the model chosen (last non-direct); 0 where a model credits nothing.
    assert shown.with_columns(pl.selectors.float().round(4)).rows() == [
        ("Organic Search", 4.0, 3.0, 4.0, 3.1667, 3.3),
        ("Referral", 0.0, 1.0, 1.0, 0.5, 0.5),
        ("Direct", 0.0, 1.0, 0.0, 0.8333, 0.7),
        ("Email", 1.0, 0.0, 0.0, 0.5, 0.5),
    ]
    assert shown.drop("channel").sum().row(0) == pytest.approx((5.0,) * 5)


def test_attribution_reads_the_conversions_of_the_dates(database):
    app = run_page("acquisition.py")
    app.sidebar.date_input(key="filter_dates").set_value((D2, D3)).run()
    # c3 and c4 happened on D2; c1, c2 and c5 on D1.
    assert table(app, CREDITED).select("channel", "conversions").rows() == [
        ("Organic Search", 1.0),
        ("Referral", 1.0),
    ]


def test_referrers_are_the_sessions_by_referrer_host(database):
    expected = sql(
        database,
        """
        select coalesce(referrer_host, '(none)') as referrer, count(*) as sessions,
            avg(is_bounce::int) as bounce_rate, avg(converted::int) as conversion_rate
        from marts.sessions where tenant_id = 'acme' and project_id = 'web'
        group by all order by sessions desc, referrer
        """,
    )
    assert table(run_page("acquisition.py"), REFERRERS).rows() == expected.rows()


def test_utm_campaigns_join_source_medium_and_campaign(database):
    shown = table(run_page("acquisition.py"), CAMPAIGNS)
    assert shown.select("source_medium_campaign", "sessions").rows() == [
        ("(none)", 5),
        ("newsletter / email / spring", 1),
    ]


def test_audience_counts_sessions_and_visitors_by_device_os_browser_and_country(database):
    app = run_page("audience.py")
    tables = {table(app, index).columns[0]: table(app, index) for index in range(4)}
    assert list(tables) == ["device_type", "browser_name", "os_name", "country_code"]
    for dimension, shown in tables.items():
        expected = sql(
            database,
            f"""
            select {dimension}, count(*) as sessions, count(distinct person_id) as visitors
            from marts.sessions where tenant_id = 'acme' and project_id = 'web'
            group by all order by sessions desc, {dimension}
            """,
        )
        assert shown.rows() == expected.rows(), dimension


def test_funnel_steps_add_up_the_days_and_convert_from_step_one(database):
    shown = table(run_page("funnels.py"))
    assert shown.select(
        "step_number", "attempts_reached", "overall_conversion_rate", "seconds_from_previous_step"
    ).rows() == [
        (1, 20, 1.0, None),
        # the daily medians 30 s (4 attempts) and 60 s (6 attempts), weighted: 48 s
        (2, 10, 0.5, 48.0),
    ]


def test_a_column_the_funnel_marts_add_gets_a_selector_and_splits_no_sum(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
    database = publish(tmp_path, "v1", MART_ROWS)
    with duckdb.connect(str(database)) as connection:
        connection.execute("alter table marts.funnel_results add column order_mode varchar")
        connection.execute("update marts.funnel_results set order_mode = 'strict'")
        connection.execute(
            "insert into marts.funnel_results by name "
            "select * replace ('any' as order_mode) from marts.funnel_results"
        )
    app = run_page("funnels.py")
    (order_mode,) = [box for box in app.selectbox if box.label == "Order mode"]
    assert order_mode.options == ["any", "strict"]
    assert table(app)["attempts_reached"].to_list() == [20, 10]


def test_the_retention_heatmap_reads_the_cohorts_of_the_dates(database):
    app = run_page("retention.py")
    (heatmap,) = charts(app)
    expected = sql(
        database,
        "select cohort_start, period_number, retention_rate from marts.retention_cohorts "
        "where cohort_type = 'weekly' order by cohort_start, period_number",
    )
    assert chart_data(heatmap).select(expected.columns).rows() == expected.rows()


def test_features_show_usage_and_the_success_rate_of_reported_outcomes(database):
    shown = table(run_page("features.py"))
    assert shown.select("feature", "usage_count", "success_rate").rows() == [
        ("export", 8, 0.8),  # 4 successes of 5 outcomes
        ("search", 2, None),
    ]


def test_metrics_chart_the_percentiles_of_each_day(database):
    (percentiles,) = charts(run_page("metrics.py"))
    shown = chart_data(percentiles).pivot("percentile", index="period_start", values="value")
    assert shown.select("p50", "p90", "p99").rows() == [
        (100.0, 180.0, 250.0),
        (110.0, 190.0, 400.0),
    ]


def test_deployments_count_failures_and_the_time_to_ready(database):
    app = run_page("deployments.py")
    assert [(metric.label, metric.value) for metric in app.metric] == [
        ("Deployments", "2"),
        ("Failed", "1"),
        ("Rollbacks", "0"),
        ("Median time to ready", "120 s"),
    ]
    assert table(app).select("deployment_id", "latest_status").rows() == [
        ("d2", "failed"),
        ("d1", "ready"),
    ]


def test_a_new_publication_is_read_on_the_next_run(database, tmp_path):
    app = run_page()
    publish(tmp_path, "v2", {**MART_ROWS, "dashboard_metrics": [kpi("dau", 1, 7, 3, None)]})
    app.run()
    assert [(metric.label, metric.value) for metric in app.metric] == [
        ("Active persons · 1 d", "7")
    ]


def test_without_a_publication_the_app_says_to_run_make_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert "run `make run` first" in app.error[0].value


def test_queries_read_the_file_current_points_at_and_hold_no_connection_open(database):
    run_page()
    assert current_database() == database
    # DuckDB refuses a read-write connection to a file this process still has open read-only.
    with duckdb.connect(str(database)) as writer:
        assert writer.execute("select count(*) from marts.sessions").fetchone() == (
            len(MART_ROWS["sessions"]),
        )

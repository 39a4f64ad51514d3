"""The floor: what bare DuckDB SQL needs for the core of the pipeline's work on the same files.

One connection to a fresh database file, with the warehouse's thread and memory settings, runs the
SQL a careful analyst would write by hand, and nothing else: no validation rules, no lineage or
manifest, no checks, no orchestration. Each stage is timed:

- load: read every landing file, keep one row per key (the spec's dedup order), finding the
  losing rows on the key and order columns alone;
- sessionize: event time, then sessions per tenant/project/anonymous_id (the client session id
  when present, else a 30-minute gap; split at 24 hours), bots left out;
- person_day_activity: person from the latest linked user id (kept for the funnel); per person
  and day the sessions, events, first/last seen and the events by name;
- exact_quantiles: per metric, tags and period (hour, day, ISO week, month) the count, sum, min,
  max, avg and exact p50/p90/p99;
- funnel: the first attempt per person of a four-step funnel within 14 days.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.sql import sql_string

FUNNEL_STEPS = ("product_viewed", "add_to_cart", "checkout_started", "purchase")
FUNNEL_WINDOW_DAYS = 14
SESSION_TIMEOUT_MINUTES = 30
SESSION_MAX_HOURS = 24


@dataclass
class FloorStage:
    name: str
    seconds: float
    rows: int
    """Rows of the table the stage produced."""


@dataclass
class FloorResult:
    stages: list[FloorStage] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(stage.seconds for stage in self.stages)

    def rows(self, name: str) -> int:
        return next(stage.rows for stage in self.stages if stage.name == name)


def _files(raw_landing_dir: Path, dataset: str) -> str:
    paths = sorted(str(p) for p in (raw_landing_dir / dataset).glob("date=*/*.parquet"))
    return "[" + ", ".join(sql_string(p) for p in paths) + "]"


def _deduplicated(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    files: str,
    key: tuple[str, ...],
    order: tuple[str, ...] = (),
) -> None:
    """Create `table` from `files` with one row per `key`: the first in `order`, then by file and
    row. The losing rows are found on the key and order columns alone (a wide sort of every row
    would spill the whole table to disk), and the table is written in one pass without them."""
    ranked = ", ".join((*order, "file_index", "file_row_number"))
    connection.execute(
        f"""
        create temp table {table}_losers as
        select file_index, file_row_number
        from read_parquet({files}, file_row_number = true)
        qualify row_number() over (
            partition by {", ".join(key)} order by {ranked}
        ) > 1
        """
    )
    connection.execute(
        f"""
        create table {table} as
        select source.* exclude (file_row_number)
        from read_parquet({files}, file_row_number = true) as source
        anti join {table}_losers as losers
            on losers.file_index = source.file_index
            and losers.file_row_number = source.file_row_number
        """
    )
    connection.execute(f"drop table {table}_losers")


def _load(connection: duckdb.DuckDBPyConnection, raw_landing_dir: Path) -> str:
    # The files are listed in path order, so their index orders them as their names do.
    events = _files(raw_landing_dir, "events")
    metrics = _files(raw_landing_dir, "metrics")
    order = ("received_at", "sent_at nulls last")
    _deduplicated(connection, "events", events, ("tenant_id", "message_id"), order)
    _deduplicated(connection, "metrics", metrics, ("tenant_id", "metric_id"))
    return "events"


def _sessionize(connection: duckdb.DuckDBPyConnection, raw_landing_dir: Path) -> str:
    connection.execute(
        f"""
        create table session_events as
        with timed as (
            select
                tenant_id, project_id, anonymous_id, user_id, nullif(session_id, '') as session_id,
                message_id, event_name, received_at,
                case when sent_at is not null then received_at - (sent_at - "timestamp")
                    else "timestamp" end as event_time
            from events
            where device_type is distinct from 'bot'
        ),
        gaps as (
            select *,
                lag(event_time) over ordered as previous_event_time
            from timed
            window ordered as (
                partition by tenant_id, project_id, anonymous_id, session_id
                order by event_time, received_at, message_id
            )
        ),
        numbered as (
            select *,
                sum(case
                    when previous_event_time is null then 1
                    when session_id is null and event_time
                        > previous_event_time + interval {SESSION_TIMEOUT_MINUTES} minute then 1
                    else 0 end
                ) over (
                    partition by tenant_id, project_id, anonymous_id, session_id
                    order by event_time, received_at, message_id
                    rows between unbounded preceding and current row
                ) as gap_number
            from gaps
        ),
        started as (
            select *,
                min(event_time) over (
                    partition by tenant_id, project_id, anonymous_id, session_id, gap_number
                ) as gap_start
            from numbered
        )
        select * exclude (previous_event_time, gap_start),
            floor(epoch(event_time - gap_start) / ({SESSION_MAX_HOURS} * 3600)) as split_number
        from started
        """
    )
    connection.execute(
        """
        create table sessions as
        select tenant_id, project_id, anonymous_id, session_id, gap_number, split_number,
            min(event_time) as started_at,
            max(event_time) as ended_at,
            count(*) as event_count,
            count(*) filter (where event_name = 'page_view') as page_view_count
        from session_events
        group by all
        """
    )
    return "sessions"


def _person_day_activity(connection: duckdb.DuckDBPyConnection, raw_landing_dir: Path) -> str:
    connection.execute(
        """
        create table persons as
        select tenant_id, project_id, anonymous_id,
            arg_max(user_id, received_at) as user_id
        from events
        where user_id is not null and user_id <> ''
        group by all
        """
    )
    connection.execute(
        """
        create table person_day_activity as
        select e.tenant_id, e.project_id,
            coalesce(p.user_id, e.anonymous_id) as person_id,
            cast(e.event_time as date) as activity_date,
            count(distinct (e.anonymous_id, e.session_id, e.gap_number, e.split_number))
                as session_count,
            count(*) as event_count,
            min(e.event_time) as first_seen_at,
            max(e.event_time) as last_seen_at,
            histogram(e.event_name) as events_by_name
        from session_events as e
        left join persons as p using (tenant_id, project_id, anonymous_id)
        group by all
        """
    )
    return "person_day_activity"


def _exact_quantiles(connection: duckdb.DuckDBPyConnection, raw_landing_dir: Path) -> str:
    periods = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
    selects = " union all ".join(
        f"""
        select tenant_id, project_id, name, tags, '{period_type}' as period_type,
            date_trunc('{part}', "timestamp") as period_start,
            count(*) as point_count, sum(value) as value_sum, min(value) as value_min,
            max(value) as value_max, avg(value) as value_avg,
            quantile_cont(value, [0.5, 0.9, 0.99]) as percentiles
        from metrics
        group by all
        """
        for period_type, part in periods.items()
    )
    connection.execute(f"create table metric_aggregates as {selects}")
    return "metric_aggregates"


def _funnel(connection: duckdb.DuckDBPyConnection, raw_landing_dir: Path) -> str:
    steps = FUNNEL_STEPS
    step_list = ", ".join(sql_string(step) for step in steps)
    reached = []
    for number in range(1, len(steps)):
        reached.append(
            f"""
            step_{number + 1} as (
                select s.tenant_id, s.project_id, s.person_id, s.started_at,
                    min(e.event_time) as reached_at
                from step_{number} as s
                join step_events as e
                    on e.tenant_id = s.tenant_id and e.project_id = s.project_id
                    and e.person_id = s.person_id and e.event_name = {sql_string(steps[number])}
                    and e.event_time >= s.reached_at
                    and e.event_time <= s.started_at + interval {FUNNEL_WINDOW_DAYS} day
                group by all
            )"""
        )
    joins = "\n".join(
        f"left join step_{n} using (tenant_id, project_id, person_id, started_at)"
        for n in range(2, len(steps) + 1)
    )
    reached_columns = ", ".join(
        f"step_{n}.reached_at as step_{n}_at" for n in range(2, len(steps) + 1)
    )
    connection.execute(
        f"""
        create table funnel_attempts as
        with step_events as (
            select e.tenant_id, e.project_id, coalesce(p.user_id, e.anonymous_id) as person_id,
                e.event_name, e.event_time
            from session_events as e
            left join persons as p using (tenant_id, project_id, anonymous_id)
            where e.event_name in ({step_list})
        ),
        step_1 as (
            select tenant_id, project_id, person_id,
                min(event_time) as started_at, min(event_time) as reached_at
            from step_events
            where event_name = {sql_string(steps[0])}
            group by all
        ),
        {",".join(reached)}
        select step_1.tenant_id, step_1.project_id, step_1.person_id, step_1.started_at,
            {reached_columns}
        from step_1
        {joins}
        """
    )
    return "funnel_attempts"


STAGES: dict[str, Callable[[duckdb.DuckDBPyConnection, Path], str]] = {
    "load": _load,
    "sessionize": _sessionize,
    "person_day_activity": _person_day_activity,
    "exact_quantiles": _exact_quantiles,
    "funnel": _funnel,
}


def run_floor(
    raw_landing_dir: Path, database_path: Path, *, threads: int, memory_limit: str
) -> FloorResult:
    """Run every floor stage on a new database file; the file is removed afterwards."""
    database_path.unlink(missing_ok=True)
    result = FloorResult()
    try:
        with duckdb.connect(
            str(database_path), config={"threads": threads, "memory_limit": memory_limit}
        ) as connection:
            connection.execute("set TimeZone = 'UTC'")
            for name, stage in STAGES.items():
                began = time.perf_counter()
                table = stage(connection, raw_landing_dir)
                seconds = time.perf_counter() - began
                rows = connection.execute(f"select count(*) from {table}").fetchone()[0]
                result.stages.append(FloorStage(name, seconds, rows))
    finally:
        database_path.unlink(missing_ok=True)
        database_path.with_name(database_path.name + ".wal").unlink(missing_ok=True)
    return result

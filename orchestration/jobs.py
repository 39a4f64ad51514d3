"""Jobs: `main` loads landed files and builds everything; `backfill` rebuilds the models;
`cleanup` enforces retention (the export and forget jobs are built with their ops, in
`exports.py` and `maintenance.py`).

Every step opens the one DuckDB file, so steps cannot run side by side anyway: one process per
run (the in-process executor) saves starting, and loading the code location in, a process per
step. Blocking checks gate what follows them in both jobs.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.landing.assets import LANDING_GROUP
from orchestration.maintenance import MAINTENANCE_GROUP

# Maintenance deletes on purpose: it runs only when asked for, never as part of a build.
_BUILD = AssetSelection.all() - AssetSelection.groups(MAINTENANCE_GROUP)

main_job = define_asset_job(
    name="main",
    selection=_BUILD,
    executor_def=in_process_executor,
    description="Load the landed files of the chosen arrival days and build every model on them.",
)

backfill_job = define_asset_job(
    name="backfill",
    selection=_BUILD - AssetSelection.groups(LANDING_GROUP),
    executor_def=in_process_executor,
    config={"ops": {"dbt_models": {"config": {"force": True}}}},
    description=(
        "Rebuild the dbt models for a range of arrival days from the raw tables as loaded, "
        "without reloading files: after a model changed, or to repair a window. Set the days "
        "in the run config (dbt_models: start_date, end_date); without them, every day."
    ),
)

cleanup_job = define_asset_job(
    name="cleanup",
    selection=AssetSelection.groups(MAINTENANCE_GROUP),
    executor_def=in_process_executor,
    description=(
        "Remove raw rows, mart rows and export files past their retention "
        "(RAW_RETENTION_DAYS, AGGREGATE_RETENTION_DAYS, EXPORT_EXPIRY_DAYS)."
    ),
)

"""Jobs: `main` loads landed files and builds everything; `backfill` rebuilds the models.

Every step opens the one DuckDB file, so steps cannot run side by side anyway: one process per
run (the in-process executor) saves starting, and loading the code location in, a process per
step. Blocking checks gate what follows them in both jobs.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.landing.assets import LANDING_GROUP

main_job = define_asset_job(
    name="main",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Load the landed files of the chosen arrival days and build every model on them.",
)

backfill_job = define_asset_job(
    name="backfill",
    selection=AssetSelection.all() - AssetSelection.groups(LANDING_GROUP),
    executor_def=in_process_executor,
    description=(
        "Rebuild the dbt models for a range of arrival days from the raw tables as loaded, "
        "without reloading files: after a model changed, or to repair a window. Launch it over "
        "a range with Backfill; the range runs as one run."
    ),
)

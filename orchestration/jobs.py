"""Jobs: the main job that builds everything, and the backfill job for a range of arrival days."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

# Every asset of the code location, in dependency order; blocking checks gate what follows them.
# Every step opens the one DuckDB file, so steps cannot run side by side anyway: one process per
# run saves starting (and loading the code location in) a process per step.
main_job = define_asset_job(
    name="main",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Load the landed files of the chosen arrival days and build every model on them.",
)

"""Jobs: the main job that builds everything, and the backfill job for a range of arrival days."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

# Every asset of the code location, in dependency order; blocking checks gate what follows them.
main_job = define_asset_job(
    name="main",
    selection=AssetSelection.all(),
    description="Load landed files, build every model and publish the marts.",
)

"""The Dagster code location: every asset, check, job and resource, assembled in one place."""

from __future__ import annotations

import logging
from dataclasses import replace

from dagster import Definitions, InitLoggerContext, colored_console_logger, logger

from orchestration.automation import (
    build_daily_schedule,
    build_dead_run_sensor,
    build_raw_landing_sensor,
)
from orchestration.checks import build_landing_checks, build_model_contract_checks
from orchestration.exports import build_export_job
from orchestration.jobs import backfill_job, cleanup_job, main_job
from orchestration.landing.assets import build_landing_assets
from orchestration.maintenance import build_cleanup_asset, build_forget_job
from orchestration.partitions import first_partition_day
from orchestration.publishing import build_published_marts
from orchestration.resources import warehouse_resource
from orchestration.settings import Settings
from orchestration.transform import build_dbt_assets, dbt_project, dbt_resource


class _OmittedChecksNotice(logging.Filter):
    """Drops Dagster's notice that the dbt step "did not yield or return expected outputs" when
    it found nothing to build: one line naming each of the some 375 checks of the dbt tests.
    The step's own line says why it built nothing; the run's log in the UI keeps the notice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "did not yield or return expected outputs" not in record.getMessage()


@logger(
    colored_console_logger.config_schema,
    description="Dagster's colored console logger, without the notice of omitted dbt checks.",
)
def console(init_context: InitLoggerContext) -> logging.Logger:
    console_logger = colored_console_logger.logger_fn(init_context)
    console_logger.addFilter(_OmittedChecksNotice())
    return console_logger


def build_definitions(settings: Settings) -> Definitions:
    # raw_landing/ is read once, so that every partitioned asset and the sensor agree on the
    # first partition even while files land.
    first_partition = first_partition_day(settings)
    landing_assets = build_landing_assets(replace(settings, partitions_start_date=first_partition))
    dbt_assets = build_dbt_assets(settings)
    manifest_path = dbt_project(settings.dbt_project_dir).manifest_path
    return Definitions(
        assets=[
            *landing_assets,
            *dbt_assets,
            build_published_marts(settings, landing_assets, dbt_assets),
            build_cleanup_asset(settings),
        ],
        asset_checks=[
            *build_landing_checks(settings),
            *build_model_contract_checks(dbt_assets, manifest_path, settings),
        ],
        jobs=[
            main_job,
            backfill_job,
            cleanup_job,
            build_export_job(settings),
            build_forget_job(settings),
        ],
        sensors=[build_raw_landing_sensor(settings, first_partition), build_dead_run_sensor()],
        schedules=[build_daily_schedule()],
        resources={"warehouse": warehouse_resource(settings), "dbt": dbt_resource(settings)},
        loggers={"console": console},
    )


defs = build_definitions(Settings.from_env())

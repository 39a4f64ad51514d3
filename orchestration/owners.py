"""Who owns which assets, declared once in `dbt_project/dbt_project.yml` (`+meta: dagster:
owners`): dagster-dbt reads the models' and seeds' owners from the manifest, and the assets that
land the raw tables (dbt's sources) and publish the marts take the sources' owners from here."""

from pathlib import Path

import yaml

from orchestration.settings import Settings


def declared_owners(resource_type: str, project_file: Path) -> list[str]:
    """The owners `dbt_project.yml` declares for every resource of a type (`sources`, ...)."""
    project = yaml.safe_load(project_file.read_text())
    return list(project[resource_type][project["name"]]["+meta"]["dagster"]["owners"])


SOURCE_OWNERS = declared_owners("sources", Settings.from_env().dbt_project_dir / "dbt_project.yml")
"""The team that lands the raw tables and publishes the marts."""

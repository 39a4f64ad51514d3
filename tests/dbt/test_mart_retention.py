"""Every mart decides its retention in its YAML (`config: meta: retention:`), and cleanup reads
the decision from dbt's manifest: a new mart without one fails here."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from orchestration.maintenance import MartRetention, mart_retention, retention_problems
from orchestration.settings import Settings
from orchestration.transform import dbt_project


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    project = dbt_project(Settings.from_env().dbt_project_dir)
    return json.loads(project.manifest_path.read_text())


def _mart_node(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    (node,) = (
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] == name
    )
    return node


def test_every_mart_declares_a_retention_column_or_why_it_keeps_every_row(manifest):
    assert retention_problems(manifest) == {}


def test_the_funnel_marts_age_out_by_when_the_attempt_started(manifest):
    retention = mart_retention(manifest)

    assert retention["funnel_attempt_steps"] == MartRetention(column="started_at")
    assert retention["funnel_conversions"] == MartRetention(column="started_at")
    assert retention["users"].keep
    assert retention["funnel_definitions"].keep


def test_a_mart_without_a_declaration_is_reported(manifest):
    edited = copy.deepcopy(manifest)
    del _mart_node(edited, "funnel_conversions")["config"]["meta"]["retention"]

    problems = retention_problems(edited)

    assert list(problems) == ["funnel_conversions"]
    assert "no valid retention declaration" in problems["funnel_conversions"]
    assert "funnel_conversions" not in mart_retention(edited)


@pytest.mark.parametrize(
    "declared",
    [{}, "keep", {"keep": ""}, {"column": "started_at", "keep": "both"}, {"days": 30}],
)
def test_a_malformed_declaration_is_reported(manifest, declared):
    edited = copy.deepcopy(manifest)
    _mart_node(edited, "funnel_conversions")["config"]["meta"]["retention"] = declared

    assert list(retention_problems(edited)) == ["funnel_conversions"]


def test_a_retention_column_that_is_not_a_date_or_timestamp_column_is_reported(manifest):
    edited = copy.deepcopy(manifest)
    _mart_node(edited, "sessions")["config"]["meta"]["retention"] = {"column": "session_key"}
    _mart_node(edited, "page_views")["config"]["meta"]["retention"] = {"column": "viewed_on"}

    problems = retention_problems(edited)

    assert list(problems) == ["page_views", "sessions"]
    assert "'viewed_on'" in problems["page_views"]
    assert "found 'string'" in problems["sessions"]

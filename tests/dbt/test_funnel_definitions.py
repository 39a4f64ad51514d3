"""Funnel definitions are validated when loaded: one that cannot be computed stops the build
with an error naming the funnel, and definitions written before windows had a unit still work.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dbt.conftest import Warehouse, make_warehouse

pytestmark = pytest.mark.slow

DEFINITION_COLUMNS = (
    "funnel_id",
    "funnel_name",
    "status",
    "steps",
    "conversion_window_days",
    "conversion_window",
    "conversion_window_unit",
    "order_mode",
    "exclusion_events",
    "breakdown",
)


def write_funnel_definitions(warehouse: Warehouse, definitions: list[dict[str, Any]]) -> None:
    """Replace the rows of the seeded funnel_definitions table (its columns default to NULL)."""
    unknown = {key for definition in definitions for key in definition} - set(DEFINITION_COLUMNS)
    if unknown:
        raise ValueError(f"unknown funnel definition columns {sorted(unknown)}")
    rows = [
        tuple(
            {"funnel_name": definition["funnel_id"], "status": "ACTIVE", **definition}.get(c)
            for c in DEFINITION_COLUMNS
        )
        for definition in definitions
    ]
    with warehouse.connect() as connection:
        connection.execute("delete from marts.funnel_definitions")
        connection.executemany(
            f"insert into marts.funnel_definitions ({', '.join(DEFINITION_COLUMNS)}) "
            f"values ({', '.join('?' for _ in DEFINITION_COLUMNS)})",
            rows,
        )


@pytest.fixture(scope="module")
def seeded_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = make_warehouse(tmp_path_factory.mktemp("funnel_definitions"))
    warehouse.dbt("seed", "--select", "funnel_definitions")
    return warehouse


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {"steps": "a > b", "conversion_window_days": 0},
            "the conversion window must be a positive number, not 0",
        ),
        (
            {"steps": "a > b", "conversion_window": 2, "conversion_window_unit": "fortnights"},
            "conversion_window_unit 'fortnights' is not one of minutes, hours, days, weeks",
        ),
        (
            {"steps": "a > b", "order_mode": "backwards"},
            "order_mode 'backwards' is not one of ordered, strict, any_order",
        ),
        ({"steps": "a"}, "a funnel needs at least 2 steps (separated by >), not 1"),
    ],
    ids=["zero_window", "unknown_unit", "unknown_mode", "one_step"],
)
def test_a_definition_that_cannot_be_computed_stops_the_build_naming_the_funnel(
    seeded_warehouse: Warehouse, definition: dict[str, Any], message: str
) -> None:
    write_funnel_definitions(
        seeded_warehouse,
        [{"funnel_id": "fine", "steps": "a > b"}, {"funnel_id": "bad", **definition}],
    )
    output = seeded_warehouse.dbt_failing("run", "--select", "funnel_steps")
    assert f"funnel definition 'bad': {message}" in output


def test_definitions_in_days_and_with_a_unit_resolve_to_their_window(
    seeded_warehouse: Warehouse,
) -> None:
    write_funnel_definitions(
        seeded_warehouse,
        [
            {"funnel_id": "default", "steps": "a > b"},
            {"funnel_id": "legacy_days", "steps": "a > b", "conversion_window_days": 3},
            {
                "funnel_id": "weeks",
                "steps": "a > b",
                "conversion_window": 2,
                "conversion_window_unit": "weeks",
                "order_mode": "any_order",
            },
        ],
    )
    seeded_warehouse.dbt("run", "--select", "funnel_steps")
    assert seeded_warehouse.query(
        "select funnel_id, order_mode, conversion_window, conversion_window_unit, "
        "conversion_window_minutes from marts.funnel_steps where step_number = 1 order by 1"
    ) == [
        ("default", "ordered", 14, "days", 20160),
        ("legacy_days", "ordered", 3, "days", 4320),
        ("weeks", "any_order", 2, "weeks", 20160),
    ]

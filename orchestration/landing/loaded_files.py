"""The files each load saw, kept beside the warehouse where the sensor can read them.

The load manifest (`raw.load_manifest`) is the record of what the raw tables hold: every landed
file a load read, with its SHA-256. The sensor on raw_landing/ must decide, every 30 seconds,
which arrival days hold files that no load has seen; but while a run writes, DuckDB locks
every other process out of the warehouse file, the sensor's reads included. So every load also
writes the manifest's files of the days it loaded to `<warehouse>.loaded_files.json`, each as
the load found it before reading it (a *stamp*: dataset, name, size, modification time), in one
atomic rename after its transaction committed. The sensor compares the stamps of the files in
raw_landing/ with these: a new, re-delivered, touched or removed file makes its day differ,
until a load of that day (which finds a touched file unchanged by its SHA-256, and builds
nothing) records it. A load whose process died between its commit and the rename leaves the
old stamps: the sensor asks for the day again, and that load records them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import duckdb

SUFFIX = ".loaded_files.json"


def stamp(dataset: str, path: Path) -> str:
    """A landed file as the sensor and the record compare it: which file, its size and when it
    was last written."""
    stat = path.stat()
    return f"{dataset}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}"


def record_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(warehouse_path.stem + SUFFIX)


def read_loaded(warehouse_path: Path) -> dict[str, list[str]]:
    """The stamps of the files the loads saw, per arrival day (ISO date), sorted; empty when
    nothing was recorded yet."""
    try:
        by_dataset = json.loads(record_path(warehouse_path).read_text())
    except FileNotFoundError:
        return {}
    by_day: dict[str, list[str]] = {}
    for days in by_dataset.values():
        for day, stamps in days.items():
            by_day.setdefault(day, []).extend(stamps)
    return {day: sorted(stamps) for day, stamps in by_day.items() if stamps}


def record_loaded(
    connection: duckdb.DuckDBPyConnection,
    dataset: str,
    stamps: Mapping[date, Sequence[str]],
) -> None:
    """Keep `stamps` as what the committed load of `dataset` saw on those days (an in-memory
    database keeps no record)."""
    [(database,)] = connection.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    if not database:
        return
    path = record_path(Path(database))
    try:
        recorded = json.loads(path.read_text())
    except FileNotFoundError:
        recorded = {}
    days = recorded.setdefault(dataset, {})
    for day, day_stamps in stamps.items():
        days[day.isoformat()] = sorted(day_stamps)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    os.replace(staged, path)

"""Load one arrival-date partition of a dataset from raw_landing/ into the raw schema.

A load reads every file of the partition, validates each row against the contract, and then, in
one transaction, replaces everything the partition contributed before. Several days load as one
batch: their files are validated together (all files of one Parquet schema in one read), and
one transaction replaces them all. For each day:

- valid rows compete with every other delivery of their key, in this partition and in all the
  partitions loaded before: the first by the dataset's dedup order (events: earliest
  `received_at`, then earliest `sent_at`), then by file path and row, is kept in `raw.<dataset>`;
  the others go to `raw.<dataset>_duplicates`. The winner is a function of all deliveries, so it
  is the same whether the files were loaded together, days apart or in any order;
- rows that break the contract go to `raw.<dataset>_rejected` with the reason and the row;
- files that cannot be used at all (unreadable, missing a required column) are recorded as
  rejected in `raw.load_manifest`, and their readable rows in the rejected table;
- the manifest gets one row per file with its counts, and the counts of files in other
  partitions whose rows won or lost against this partition are brought up to date;
- events: the user agents `raw.user_agents` does not hold yet are parsed into it
  (`landing.user_agents`), so that every loaded event's user agent is parsed.

The wide rows are copied once into the batch's staging table and once into the raw tables.
The dedup ranks narrow columns only (key, dedup order, source file and row): the staged valid
rows, and the rows of other partitions that hold one of their keys (or a key of the rows being
replaced). Only keys with more than one delivery, or with a delivery loaded before, are ranked
(found by the keys' 64-bit hash first, then ranked by the keys themselves); every other staged
row is a winner as it is. Rows of other partitions are touched only when
their side changes (a winner that now loses moves to the duplicates, a duplicate that now wins
moves back) or when the winner a duplicate points to changes; their days are fingerprinted
again with the loaded ones.

A file that is not a Parquet file directly in a `date=YYYY-MM-DD` folder belongs to no
partition: `stray_files` names it, with why, for the landing asset's log and a warning check.

Re-running a partition changes nothing: unchanged files keep the `loaded_at` of their first load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.audit import record_action
from orchestration.contract import Dataset
from orchestration.landing import key_hashes
from orchestration.landing.fingerprints import record_fingerprints
from orchestration.landing.loaded_files import record_loaded, stamp
from orchestration.landing.privacy import register_anonymize_ip
from orchestration.landing.tables import create_landing_tables
from orchestration.landing.user_agents import parses_user_agents, record_user_agents
from orchestration.landing.validation import staging_select
from orchestration.sql import quote_identifier, sql_string, transaction

LOADED = "loaded"
REJECTED = "rejected"
BATCH_ROWS = 3_000_000
"""Days are loaded together up to about this many rows (one day may be more)."""


@dataclass
class FileLoad:
    """What became of one landing file."""

    file_path: str
    file_size_bytes: int
    file_sha256: str
    status: str = LOADED
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    extra_columns: list[str] = field(default_factory=list)
    loaded_at: datetime | None = None


@dataclass
class PartitionLoad:
    """What a load of one partition did."""

    dataset: str
    landing_date: date
    files: list[FileLoad]
    rejected_examples: list[str]
    """Up to ten rejected rows as `file row N: reason`, for logs and metadata."""
    unchanged: bool = False
    """The files were those loaded before, byte for byte, so the tables were left as they were."""
    user_agents_parsed: int = 0
    """User agents new to `raw.user_agents`, parsed in the transaction that loaded the day. A
    batch of several days parses them once, for all its days, and counts them on its last day."""

    @property
    def nothing_landed(self) -> bool:
        """No file landed for the day, and no load has recorded one: nothing was done."""
        return self.unchanged and not self.files

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_duplicate(self) -> int:
        return sum(f.rows_duplicate for f in self.files)

    @property
    def files_rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == REJECTED]


def partition_dir(raw_landing_dir: Path, dataset: Dataset, landing_date: date) -> Path:
    return raw_landing_dir / dataset.name / f"date={landing_date.isoformat()}"


def landing_files(raw_landing_dir: Path, dataset: Dataset, landing_date: date) -> list[Path]:
    """The partition's Parquet files, in the order that decides dedup ties (by path)."""
    folder = partition_dir(raw_landing_dir, dataset, landing_date)
    return sorted(path for path in folder.glob("*.parquet") if path.is_file())


def folder_date(folder: Path) -> date | None:
    """The arrival date a `date=YYYY-MM-DD` folder stands for; None for any other name
    (`date=2026-3-1` and `date=20260301` too: only the name `partition_dir` gives is read)."""
    try:
        day = date.fromisoformat(folder.name.removeprefix("date="))
    except ValueError:
        return None
    return day if folder.name == f"date={day.isoformat()}" else None


def landed_dates(raw_landing_dir: Path, dataset: Dataset) -> list[date]:
    """Arrival dates that have a folder in raw_landing/ for the dataset."""
    dataset_dir = raw_landing_dir / dataset.name
    if not dataset_dir.is_dir():
        return []
    folders = (folder for folder in dataset_dir.iterdir() if folder.is_dir())
    return sorted(day for folder in folders if (day := folder_date(folder)) is not None)


@dataclass(frozen=True)
class StrayFile:
    """A file under `raw_landing/<dataset>/` that no partition loads, and why."""

    path: str
    """Relative to raw_landing/."""
    reason: str


def _hidden(path: Path) -> bool:
    # Writers keep partial and marker files under such names (`.part-0.parquet.inprogress`,
    # Spark's `_SUCCESS` and `_temporary/`): they are not deliveries.
    return path.name.startswith((".", "_"))


def _files_under(folder: Path) -> list[Path]:
    """Every file in `folder` and its subfolders, except hidden ones and those in hidden
    folders."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(_hidden(Path(part)) for part in path.relative_to(folder).parts)
    )


def stray_files(raw_landing_dir: Path, dataset: Dataset) -> list[StrayFile]:
    """Files under `raw_landing/<dataset>/` that no partition loads, because they are not
    Parquet files directly in a `date=YYYY-MM-DD` folder. Hidden files and folders (names
    starting with `.` or `_`) are not deliveries and are left out."""
    dataset_dir = raw_landing_dir / dataset.name
    if not dataset_dir.is_dir():
        return []
    strays: list[tuple[Path, str]] = []
    for entry in sorted(dataset_dir.iterdir()):
        if _hidden(entry):
            continue
        if not entry.is_dir():
            strays.append((entry, "not in a date=YYYY-MM-DD folder"))
        elif folder_date(entry) is None:
            value = entry.name.removeprefix("date=")
            reason = (
                f"folder {entry.name}: {value} is not a valid YYYY-MM-DD date"
                if entry.name.startswith("date=")
                else f"folder {entry.name} is not named date=YYYY-MM-DD"
            )
            strays += [(path, reason) for path in _files_under(entry)]
        else:
            for inner in sorted(entry.iterdir()):
                if _hidden(inner):
                    continue
                if inner.is_dir():
                    reason = f"in a subfolder of {entry.name}: only files directly in it load"
                    strays += [(path, reason) for path in _files_under(inner)]
                elif not inner.name.endswith(".parquet"):
                    strays.append((inner, "not a .parquet file"))
    return [StrayFile(path.relative_to(raw_landing_dir).as_posix(), why) for path, why in strays]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Columns the read adds to each file's own: the row's number in its file, and the file.
_ROW_NUMBER_COLUMN = "file_row_number"
_FILE_NAME_COLUMN = "_landing_file"


def _read_files_sql(paths: list[Path]) -> str:
    files = ", ".join(sql_string(str(path)) for path in paths)
    return (
        f"read_parquet([{files}], file_row_number = true, "
        f"filename = {sql_string(_FILE_NAME_COLUMN)}, hive_partitioning = false)"
    )


def _describe_files(connection: duckdb.DuckDBPyConnection, file_sql: str) -> dict[str, str]:
    """The files' own columns and their DuckDB types (the read's added columns left out)."""
    rows = connection.execute(f"describe select * from {file_sql}").fetchall()
    return {
        name: column_type
        for name, column_type, *_ in rows
        if name not in (_ROW_NUMBER_COLUMN, _FILE_NAME_COLUMN)
    }


def _schema_groups(
    connection: duckdb.DuckDBPyConnection, paths: list[Path]
) -> tuple[list[list[Path]], list[Path]]:
    """The files grouped by their Parquet schema, as DuckDB reads it (each group can be read
    and validated as one), and the files whose schema cannot be read."""
    if not paths:
        return [], []
    signature = """
        select file_name, md5(string_agg(
            concat_ws(chr(31), name, type, type_length, repetition_type, num_children,
                converted_type, scale, precision, field_id, logical_type, duckdb_type),
            chr(30) order by column_id
        ))
        from parquet_schema(?)
        group by file_name
    """
    try:
        rows = connection.execute(signature, [[str(path) for path in paths]]).fetchall()
    except duckdb.Error:
        # One unreadable file fails the whole read: find it (or them) file by file.
        unreadable = []
        for path in paths:
            try:
                connection.execute(signature, [[str(path)]])
            except duckdb.Error:
                unreadable.append(path)
        if not unreadable:
            return [[path] for path in paths], []
        groups, _ = _schema_groups(connection, [p for p in paths if p not in unreadable])
        return groups, unreadable
    by_signature: dict[str, list[Path]] = {}
    signatures = dict(rows)
    for path in paths:
        by_signature.setdefault(signatures[str(path)], []).append(path)
    return list(by_signature.values()), []


def _unchanged_partitions(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    batch: list[tuple[date, list[Path]]],
    sha256: Callable[[Path], str],
) -> dict[date, list[FileLoad]]:
    """The manifest's record of the files of each day whose files are exactly those loaded
    before (same paths and SHA-256). A file is hashed only when its size matches."""
    rows = connection.execute(
        """
        select landing_date, file_path, file_size_bytes, file_sha256, status, reason, rows_read,
            rows_loaded, rows_rejected, rows_duplicate, extra_columns, loaded_at
        from raw.load_manifest
        where dataset = ? and landing_date in (select unnest(?::date[]))
        order by landing_date, file_path
        """,
        [dataset.name, [day for day, _ in batch]],
    ).fetchall()
    recorded: dict[date, dict[str, tuple]] = {}
    for day, *file_row in rows:
        recorded.setdefault(day, {})[file_row[0]] = tuple(file_row)
    unchanged = {}
    for day, paths in batch:
        files = recorded.get(day, {})
        if not files or len(files) != len(paths):
            continue
        if all(
            (row := files.get(path.relative_to(raw_landing_dir).as_posix())) is not None
            and row[1] == path.stat().st_size
            and row[2] == sha256(path)
            for path in paths
        ):
            unchanged[day] = [
                FileLoad(*row[:9], extra_columns=list(row[9]), loaded_at=row[10])
                for row in files.values()
            ]
    return unchanged


def _stage_files(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    paths: list[Path],
    future_tolerance_hours: int,
    sha256: Callable[[Path], str],
) -> dict[Path, FileLoad]:
    """Validate the files into the temp table `_staged`, every file of one schema in one read,
    and record why each unusable file is. The files are hashed meanwhile, in a thread of their
    own (hashlib leaves the interpreter free while it hashes a block)."""
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashes = {path: hasher.submit(sha256, path) for path in paths}
        file_loads = {
            path: FileLoad(path.relative_to(raw_landing_dir).as_posix(), path.stat().st_size, "")
            for path in paths
        }
        _stage_groups(connection, dataset, raw_landing_dir, file_loads, future_tolerance_hours)
        for path, file_load in file_loads.items():
            file_load.file_sha256 = hashes[path].result()
    return file_loads


def _stage_groups(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    file_loads: dict[Path, FileLoad],
    future_tolerance_hours: int,
) -> None:
    """Validate the files into `_staged`, those of one schema in one read."""
    paths = list(file_loads)
    groups, unreadable = _schema_groups(connection, paths)
    for path in unreadable:
        _stage_group(
            connection, dataset, raw_landing_dir, [path], file_loads, future_tolerance_hours
        )
    for group in groups:
        if not _stage_group(
            connection, dataset, raw_landing_dir, group, file_loads, future_tolerance_hours
        ):
            # A file whose footer reads but whose data pages are corrupt fails its group's read,
            # atomically: the group is read file by file, so that only that file is rejected.
            for path in group:
                _stage_group(
                    connection, dataset, raw_landing_dir, [path], file_loads, future_tolerance_hours
                )


def _stage_group(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    paths: list[Path],
    file_loads: dict[Path, FileLoad],
    future_tolerance_hours: int,
) -> bool:
    """Validate files of one schema into `_staged` in one statement. False, with nothing
    staged, when a group of several files cannot be read; a single file that cannot be read
    is recorded as rejected, with why."""
    loads = [file_loads[path] for path in paths]
    file_sql = _read_files_sql(paths)
    try:
        file_columns = _describe_files(connection, file_sql)
    except duckdb.Error as error:
        if len(paths) > 1:
            return False
        loads[0].status, loads[0].reason = REJECTED, f"cannot read the file as Parquet: {error}"
        return True
    extra_columns = sorted(name for name in file_columns if name not in dataset.column_names)
    missing = [name for name in dataset.required_columns if name not in file_columns]
    prefix = len(str(raw_landing_dir).rstrip("/")) + 2
    select = staging_select(
        dataset,
        file_sql,
        file_columns,
        source_file_sql=f"substr(src.{quote_identifier(_FILE_NAME_COLUMN)}, {prefix})",
        future_tolerance_hours=future_tolerance_hours,
    )
    try:
        connection.execute(f"insert into _staged by name {select}")
    except duckdb.Error as error:
        if len(paths) > 1:
            return False
        loads[0].status, loads[0].reason = REJECTED, f"cannot read the file's rows: {error}"
        return True
    for file_load in loads:
        file_load.extra_columns = extra_columns
        if missing:
            # The file is unusable, but its rows are kept in the rejected table with the
            # reason, so that nothing disappears silently.
            file_load.status = REJECTED
            file_load.reason = f"missing required column(s): {', '.join(missing)}"
    return True


_TEMP_TABLES = (
    "_staged",
    "_file_loaded_at",
    "_incoming_keys",
    "_held_elsewhere",
    "_contested_keys",
    "_contenders",
    "_contested",
)
"""The temp tables a batch works in, dropped when it is done."""


def _create_staging_table(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    columns = ", ".join(f"{quote_identifier(c.name)} {c.type.duckdb}" for c in dataset.columns)
    connection.execute(
        f"""
        create or replace temp table _staged (
            {columns},
            _source_file varchar,
            _source_row bigint,
            violations varchar[],
            raw_row json
        )
        """
    )


def load_partition(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    landing_date: date,
    *,
    future_tolerance_hours: int = 24,
    actor: str | None = None,
    force: bool = False,
) -> PartitionLoad:
    """Replace everything `landing_date`'s files of `dataset` contributed to the warehouse, and
    record the load (or reload) in the audit log, `actor` being who asked for it.

    When the partition's files are exactly those loaded before (same paths, same SHA-256), the
    tables are left as they are, unless `force` (after a change of the contract's rules, say).
    """
    (partition_load,) = load_partitions(
        connection,
        dataset,
        raw_landing_dir,
        [landing_date],
        future_tolerance_hours=future_tolerance_hours,
        actor=actor,
        force=force,
    )
    return partition_load


def load_partitions(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    landing_dates: list[date],
    *,
    future_tolerance_hours: int = 24,
    actor: str | None = None,
    force: bool = False,
    batch_rows: int = BATCH_ROWS,
    on_loaded: Callable[[list[PartitionLoad]], None] | None = None,
) -> list[PartitionLoad]:
    """`load_partition` for several days, one audit record each.

    Days are loaded in batches of about `batch_rows` rows, each batch in one transaction: its
    files are validated together (those of one schema in one read), and the dedup against the
    rows loaded before reads the tables once per batch, not once per day. The result is the
    same as loading the days one by one, in any order. A day without files that no load has
    recorded costs nothing: there is nothing to load and nothing to take away, so it gets no
    audit record either (`PartitionLoad.nothing_landed`). `on_loaded` is called with the days'
    loads of each batch as soon as it is committed (for progress logs).
    """
    connection.execute("set TimeZone = 'UTC'")
    create_landing_tables(connection, actor=actor)
    register_anonymize_ip(connection)
    days = sorted(set(landing_dates))
    loaded_before = {
        day
        for (day,) in connection.execute(
            "select distinct landing_date from raw.load_manifest "
            "where dataset = ? and landing_date in (select unnest(?::date[]))",
            [dataset.name, days],
        ).fetchall()
    }
    loads: list[PartitionLoad] = []

    def loaded(partition_loads: list[PartitionLoad]) -> None:
        if on_loaded is not None:
            on_loaded(partition_loads)
        loads.extend(partition_loads)

    batch: list[tuple[date, list[Path]]] = []
    batch_size = 0
    for landing_date in days:
        paths = landing_files(raw_landing_dir, dataset, landing_date)
        if not paths and landing_date not in loaded_before:
            loaded([PartitionLoad(dataset.name, landing_date, [], [], unchanged=True)])
            continue
        rows = sum(_parquet_rows(path) for path in paths)
        if batch and batch_size + rows > batch_rows:
            loaded(
                _load_batch(
                    connection,
                    dataset,
                    raw_landing_dir,
                    batch,
                    future_tolerance_hours,
                    actor,
                    force,
                )
            )
            batch, batch_size = [], 0
        batch.append((landing_date, paths))
        batch_size += rows
    if batch:
        loaded(
            _load_batch(
                connection, dataset, raw_landing_dir, batch, future_tolerance_hours, actor, force
            )
        )
    return loads


def _parquet_rows(path: Path) -> int:
    """Rows of a Parquet file from its footer; 0 when it cannot be read (it will be rejected)."""
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (OSError, pa.ArrowException):
        return 0


def _load_batch(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    raw_landing_dir: Path,
    batch: list[tuple[date, list[Path]]],
    future_tolerance_hours: int,
    actor: str | None,
    force: bool,
) -> list[PartitionLoad]:
    # The files as found before anything reads them: a file re-delivered during the load then
    # differs from what is recorded, and the sensor asks for its day again.
    stamps = {day: [stamp(dataset.name, path) for path in paths] for day, paths in batch}
    hashes: dict[Path, str] = {}

    def sha256(path: Path) -> str:
        # A file whose size matches the manifest but whose bytes do not is hashed once.
        if path not in hashes:
            hashes[path] = _sha256(path)
        return hashes[path]

    # Days whose files are those loaded before, byte for byte: the tables already hold what a
    # reload would write.
    unchanged = (
        {} if force else _unchanged_partitions(connection, dataset, raw_landing_dir, batch, sha256)
    )
    _create_staging_table(connection, dataset)
    staged = _stage_files(
        connection,
        dataset,
        raw_landing_dir,
        [path for day, paths in batch if day not in unchanged for path in paths],
        future_tolerance_hours,
        sha256,
    )
    changed = {
        day: [staged[path] for path in paths] for day, paths in batch if day not in unchanged
    }
    loads = []
    if changed:
        # In a transaction of its own: DuckDB 2.0 loses, from later reads in the same session,
        # the rows of an INSERT that follows an INSERT of no rows into the same table in one
        # transaction (the rebuild of an empty warehouse's index inserts none).
        with transaction(connection):
            key_hashes.ensure_index(connection, dataset)
    with transaction(connection):
        loaded_before: dict[date, bool] = {}
        if changed:
            loaded_before, competing = _replace_partitions(connection, dataset, changed)
            record_fingerprints(connection, dataset, changed, competing)
        # Also when every day was unchanged: the events of a warehouse that held them before
        # raw.user_agents existed get their user agents parsed by its next load.
        user_agents_parsed = record_user_agents(connection) if parses_user_agents(dataset) else 0
        for landing_date, _ in batch:
            files = unchanged.get(landing_date) or changed[landing_date]
            partition_load = PartitionLoad(dataset.name, landing_date, files, [])
            partition_load.unchanged = landing_date in unchanged
            record_action(
                connection,
                "reload" if partition_load.unchanged or loaded_before[landing_date] else "load",
                f"{dataset.table} {landing_date.isoformat()}",
                actor=actor,
                rows_affected=partition_load.rows_read,
                details={
                    "files": len(files),
                    "files_rejected": len(partition_load.files_rejected),
                    "rows_loaded": partition_load.rows_loaded,
                    "rows_rejected": partition_load.rows_rejected,
                    "rows_duplicate": partition_load.rows_duplicate,
                    "unchanged": partition_load.unchanged,
                },
            )
            loads.append(partition_load)
        loads[-1].user_agents_parsed = user_agents_parsed
    record_loaded(connection, dataset.name, stamps)
    examples = _rejected_examples(connection, dataset, [load.landing_date for load in loads])
    for partition_load in loads:
        partition_load.rejected_examples = examples.get(partition_load.landing_date, [])
    for table in _TEMP_TABLES:
        connection.execute(f"drop table if exists {table}")
    return loads


def _rejected_examples(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, dates: list[date]
) -> dict[date, list[str]]:
    """Up to ten rejected rows of each day, as `file row N: reason`."""
    rows = connection.execute(
        f"""
        select _landing_date, _source_file || ' row ' || _source_row || ': ' || reject_reason
        from {dataset.rejected_table}
        where _landing_date in (select unnest(?::date[]))
        qualify row_number() over (
            partition by _landing_date order by _source_file, _source_row
        ) <= 10
        order by _landing_date, _source_file, _source_row
        """,
        [dates],
    ).fetchall()
    examples: dict[date, list[str]] = {}
    for day, example in rows:
        examples.setdefault(day, []).append(example)
    return examples


def _replace_partitions(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    files_by_date: dict[date, list[FileLoad]],
) -> tuple[dict[date, bool], set[date]]:
    """Replace the partitions' rows, duplicates, rejects and manifest. Return whether each had
    been loaded before, and the other partitions whose rows in `raw.<dataset>` changed (a
    delivery of theirs now wins, or now loses, against this load's)."""
    dates = list(files_by_date)
    partitions = "(" + ", ".join(f"date {sql_string(d.isoformat())}" for d in dates) + ")"

    # A file loaded before with the same bytes keeps its first loaded_at: a re-run changes nothing.
    manifest_rows = connection.execute(
        """
        select landing_date, file_path || ':' || file_sha256, loaded_at
        from raw.load_manifest
        where dataset = ? and landing_date in (select unnest(?::date[]))
        """,
        [dataset.name, dates],
    ).fetchall()
    first_loaded = {path_sha: loaded_at for _, path_sha, loaded_at in manifest_rows}
    loaded_before = {day: False for day in dates}
    for day, _, _ in manifest_rows:
        loaded_before[day] = True
    now = connection.execute("select cast(now() as timestamp)").fetchone()[0]
    for files in files_by_date.values():
        for file_load in files:
            file_load.loaded_at = first_loaded.get(
                f"{file_load.file_path}:{file_load.file_sha256}", now
            )
    connection.execute(
        "create or replace temp table _file_loaded_at "
        "(file_path varchar, landing_date date, ts timestamp)"
    )
    _insert_rows(
        connection,
        "_file_loaded_at",
        {"file_path": pa.string(), "landing_date": pa.date32(), "ts": pa.timestamp("us")},
        [(f.file_path, day, f.loaded_at) for day, files in files_by_date.items() for f in files],
    )

    _rank_contested_deliveries(connection, dataset, partitions)
    moved = _settle_earlier_deliveries(connection, dataset)
    table_columns = ", ".join(quote_identifier(c.name) for c in dataset.table_columns())
    staged_columns = ", ".join(
        [f"s.{quote_identifier(name)}" for name in dataset.column_names]
        + ["s._source_file", "s._source_row", "f.landing_date", "f.ts"]
    )
    for table in (dataset.table, dataset.duplicates_table, dataset.rejected_table):
        connection.execute(f"delete from {table} where _landing_date in {partitions}")
    connection.execute(
        f"""
        insert into {dataset.table} ({table_columns})
        select {staged_columns}
        from _staged as s
        anti join (
            select staged_row from _contested where side = 'incoming' and not wins
        ) as lost on lost.staged_row = s.rowid
        join _file_loaded_at as f on f.file_path = s._source_file
        where len(s.violations) = 0
        """
    )
    connection.execute(
        f"""
        insert into {dataset.duplicates_table}
            ({table_columns}, _kept_source_file, _kept_source_row)
        select {staged_columns}, c.winner_file, c.winner_row
        from _staged as s
        join _contested as c on c.staged_row = s.rowid
        join _file_loaded_at as f on f.file_path = s._source_file
        where c.side = 'incoming' and not c.wins
        """
    )
    connection.execute(
        f"""
        insert into {dataset.rejected_table} (_source_file, _source_row, _landing_date,
            reject_columns, reject_reason, raw_row, _rejected_at)
        select s._source_file, s._source_row, f.landing_date,
            list_sort(list_distinct(list_transform(s.violations, lambda v: split_part(v, ':', 1)))),
            array_to_string(s.violations, '; '), s.raw_row, f.ts
        from _staged as s join _file_loaded_at as f on f.file_path = s._source_file
        where len(s.violations) > 0
        """
    )
    key_hashes.replace_partitions(
        connection, dataset, partitions, "select landing_date, key_hash from _incoming_keys"
    )
    _record_manifest(connection, dataset, files_by_date, {file for file, _ in moved})
    return loaded_before, {day for _, day in moved}


def _rank_contested_deliveries(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, partitions: str
) -> None:
    """Rank, into the temp table `_contested`, every delivery of the keys whose winner may
    change: the keys of the staged valid rows and of the rows being replaced that have more than
    one delivery, or one in another partition (a duplicate whose winner was in the replaced
    partitions is ranked again, alone if need be). Only narrow columns are read: the key, the
    dedup order, where each delivery comes from (a staged row, or a row of the table or of the
    duplicates) and, for a duplicate, the winner it points to.

    The keys are found by their 64-bit hash first (a join on one integer, where the keys are
    two strings): the hashes held twice among the staged rows, or held by a delivery of another
    partition too. The index of every delivery's hash by arrival day (`key_hashes`) names the
    days that hold one; only their rows are read. Only the deliveries of those hashes are
    ranked, by their keys: a hash two different keys share costs a few more rows to rank, never
    a wrong winner."""
    key = key_hashes.key_sql(dataset)
    key_hash = key_hashes.key_hash
    order_columns = [quote_identifier(name) for name in (*dataset.key, *dataset.dedup_order)]
    narrow = [*order_columns, "_source_file", "_source_row", "_landing_date"]
    t_narrow = ", ".join(f"t.{name}" for name in narrow)
    winner_order = ", ".join(
        [f"{quote_identifier(name)} asc nulls last" for name in dataset.dedup_order]
        + ["_source_file", "_source_row"]
    )
    connection.execute(
        f"""
        create or replace temp table _incoming_keys as
        select s.rowid as staged_row, {key_hash(key_hashes.key_sql(dataset, "s"))} as key_hash,
            f.landing_date
        from _staged as s join _file_loaded_at as f on f.file_path = s._source_file
        where len(s.violations) = 0
        """
    )
    replaced = " union all ".join(
        f"select {key_hash(key)} from {table} where _landing_date in {partitions}"
        for table in (dataset.table, dataset.duplicates_table)
    )
    hashes = f"select key_hash from _incoming_keys union all {replaced}"
    held_days = key_hashes.days_holding(connection, dataset, hashes, partitions)
    # The deliveries of the other partitions that share a hash with a staged row or a replaced
    # one: every delivery of a contested key outside the partitions, reading only the days
    # that hold one, in one read of each table.
    held_partitions = f"({', '.join(held_days)})" if held_days else "(null)"
    held_elsewhere = " union all ".join(
        f"""
        select cast(null as bigint), t.rowid, '{side}', {t_narrow}, {kept}, t.key_hash
        from (
            select rowid, *, {key_hash(key)} as key_hash from {table}
            where _landing_date in {held_partitions}
        ) as t
        where t.key_hash in ({hashes})"""
        for table, side, kept in (
            (dataset.table, "loaded", "cast(null as varchar), cast(null as bigint)"),
            (dataset.duplicates_table, "duplicate", "t._kept_source_file, t._kept_source_row"),
        )
    )
    connection.execute(f"create or replace temp table _held_elsewhere as {held_elsewhere}")
    connection.execute(
        """
        create or replace temp table _contested_keys as
        select key_hash from _incoming_keys group by key_hash having count(*) > 1
        union
        select key_hash from _held_elsewhere
        """
    )
    connection.execute(
        f"""
        create or replace temp table _contenders as
        select s.rowid as staged_row, cast(null as bigint) as table_row, 'incoming' as side,
            {", ".join(f"s.{name}" for name in order_columns)}, s._source_file, s._source_row,
            i.landing_date as _landing_date,
            cast(null as varchar) as kept_source_file, cast(null as bigint) as kept_source_row
        from _staged as s
        join _incoming_keys as i on i.staged_row = s.rowid
        semi join _contested_keys as c on c.key_hash = i.key_hash
        """
    )
    connection.execute("insert into _contenders select * exclude (key_hash) from _held_elsewhere")
    connection.execute(
        f"""
        create or replace temp table _contested as
        select staged_row, table_row, side, _source_file, _landing_date, kept_source_file,
            kept_source_row,
            row_number() over keyed = 1 as wins,
            first_value(_source_file) over keyed as winner_file,
            first_value(_source_row) over keyed as winner_row
        from _contenders
        semi join (
            select {key} from _contenders
            group by {key}
            having count(*) > 1 or bool_or(side <> 'incoming')
        ) as k using ({key})
        window keyed as (partition by {key} order by {winner_order})
        """
    )


def _settle_earlier_deliveries(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset
) -> set[tuple[str, date]]:
    """Bring the rows of other partitions in line with `_contested`: a loaded row that now
    loses moves to the duplicates, a duplicate that now wins moves to the table, and a
    duplicate whose winner changed points to the new one. Return the files and days of the
    rows that moved."""
    table_columns = ", ".join(quote_identifier(c.name) for c in dataset.table_columns())
    t_table_columns = ", ".join(f"t.{quote_identifier(c.name)}" for c in dataset.table_columns())
    moved = connection.execute(
        """
        select distinct _source_file, _landing_date from _contested
        where (side = 'loaded' and not wins) or (side = 'duplicate' and wins)
        """
    ).fetchall()
    # Each move's INSERT runs only when it has rows: the load inserts into both tables again in
    # this transaction, and DuckDB 2.0 loses, from later reads in the same session, the rows of
    # an INSERT that follows an INSERT of no rows into the same table in one transaction.
    now_losing, now_winning = connection.execute(
        """
        select count(*) filter (where side = 'loaded' and not wins),
            count(*) filter (where side = 'duplicate' and wins)
        from _contested
        """
    ).fetchone()
    if now_losing:
        connection.execute(
            f"""
            insert into {dataset.duplicates_table}
                ({table_columns}, _kept_source_file, _kept_source_row)
            select {t_table_columns}, c.winner_file, c.winner_row
            from {dataset.table} as t join _contested as c on c.table_row = t.rowid
            where c.side = 'loaded' and not c.wins
            """
        )
    if now_winning:
        connection.execute(
            f"""
            insert into {dataset.table} ({table_columns})
            select {t_table_columns}
            from {dataset.duplicates_table} as t join _contested as c on c.table_row = t.rowid
            where c.side = 'duplicate' and c.wins
            """
        )
    if moved:
        for table, side, now_wins in (
            (dataset.table, "loaded", "false"),
            (dataset.duplicates_table, "duplicate", "true"),
        ):
            connection.execute(
                f"""
                delete from {table} where rowid in (
                    select table_row from _contested where side = '{side}' and wins = {now_wins}
                )
                """
            )
    connection.execute(
        f"""
        update {dataset.duplicates_table} as t set
            _kept_source_file = c.winner_file,
            _kept_source_row = c.winner_row
        from _contested as c
        where c.table_row = t.rowid and c.side = 'duplicate' and not c.wins
            and (c.kept_source_file, c.kept_source_row)
                is distinct from (c.winner_file, c.winner_row)
        """
    )
    return set(moved)


def _record_manifest(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    files_by_date: dict[date, list[FileLoad]],
    moved_files: set[str],
) -> None:
    """Write the partitions' manifest rows, and bring up to date the counts of the files of
    other partitions whose rows changed side in this load (`moved_files`), counted in the
    tables. A loaded file's rows are all in the staged rows: those with violations are
    rejected, those that lost are duplicates, the others are loaded."""
    counts = {
        file: (read, rejected, duplicate)
        for file, read, rejected, duplicate in connection.execute(
            """
            with lost as (
                select _source_file, count(*) as duplicate from _contested
                where side = 'incoming' and not wins
                group by all
            )
            select s._source_file, count(*), count(*) filter (where len(s.violations) > 0),
                coalesce(any_value(lost.duplicate), 0)
            from _staged as s left join lost using (_source_file)
            group by s._source_file
            """
        ).fetchall()
    }
    for files in files_by_date.values():
        for f in files:
            f.rows_read, f.rows_rejected, f.rows_duplicate = counts.get(f.file_path, (0, 0, 0))
            f.rows_loaded = f.rows_read - f.rows_rejected - f.rows_duplicate
    dates = list(files_by_date)
    connection.execute(
        "delete from raw.load_manifest "
        "where dataset = ? and landing_date in (select unnest(?::date[]))",
        [dataset.name, dates],
    )
    _insert_rows(
        connection,
        "raw.load_manifest",
        {
            "dataset": pa.string(),
            "landing_date": pa.date32(),
            "file_path": pa.string(),
            "file_size_bytes": pa.int64(),
            "file_sha256": pa.string(),
            "status": pa.string(),
            "reason": pa.string(),
            "rows_read": pa.int64(),
            "rows_loaded": pa.int64(),
            "rows_rejected": pa.int64(),
            "rows_duplicate": pa.int64(),
            "extra_columns": pa.list_(pa.string()),
            "loaded_at": pa.timestamp("us"),
        },
        [
            (
                dataset.name,
                landing_date,
                f.file_path,
                f.file_size_bytes,
                f.file_sha256,
                f.status,
                f.reason,
                f.rows_read,
                f.rows_loaded,
                f.rows_rejected,
                f.rows_duplicate,
                f.extra_columns,
                f.loaded_at,
            )
            for landing_date, files in files_by_date.items()
            for f in files
        ],
    )
    if not moved_files:
        return
    connection.execute(
        f"""
        with files as (select unnest(?::varchar[]) as file_path),
        per_file as (
            select
                files.file_path,
                (select count(*) from {dataset.table} where _source_file = files.file_path)
                    as loaded,
                (select count(*) from {dataset.duplicates_table}
                    where _source_file = files.file_path) as duplicate
            from files
        )
        update raw.load_manifest as m set
            rows_loaded = c.loaded,
            rows_duplicate = c.duplicate
        from per_file as c
        where m.dataset = ? and m.file_path = c.file_path
        """,
        [sorted(moved_files), dataset.name],
    )


def _insert_rows(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, pa.DataType],
    rows: list[tuple],
) -> None:
    """Insert `rows` into those `columns` of `table` in one statement, through Arrow (an
    `executemany` runs one statement per row)."""
    if not rows:
        return
    arrow_rows = pa.table(
        {
            name: pa.array([row[i] for row in rows], type=column_type)
            for i, (name, column_type) in enumerate(columns.items())
        }
    )
    names = ", ".join(quote_identifier(name) for name in columns)
    connection.register("_rows", arrow_rows)
    try:
        connection.execute(f"insert into {table} ({names}) select {names} from _rows")
    finally:
        connection.unregister("_rows")

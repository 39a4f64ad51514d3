"""Row validation against the landing contract, as SQL over landing files.

For files whose columns DuckDB has described (files of one schema are read together),
`staging_select` builds one SELECT that reads them once and yields, per row: every contract
column cast to its contract type, the list of violations (each `"<column>: <what is wrong>"`),
and the row as it was (as JSON) for the rows that have violations. Casting and checking in SQL
keeps the work vectorized; nothing loops over rows.

Each rule is a condition and a message. A row's conditions are evaluated as one boolean first;
the messages and the row as it was are built only for the rare rows where it is true.

IP addresses are anonymized once per distinct address of the read, not once per row: the files'
few thousand addresses are each worked out by `anonymize_ip`, and the rows take theirs through
a join (a per-row call was most of the validation's time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orchestration.contract import EVENTS, Column, ColumnType, Dataset
from orchestration.sql import quote_identifier, sql_string

# File column types that cast to a contract type without surprises. Any other type goes through
# text with TRY_CAST (a string column of ISO timestamps loads), or, when even that makes no sense
# (a number where a timestamp belongs), every non-null value is reported as the wrong type.
_NATIVE_TYPES: dict[ColumnType, tuple[str, ...]] = {
    ColumnType.STRING: ("VARCHAR",),
    ColumnType.TIMESTAMP: (
        "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "TIMESTAMP_S",
        "DATE",
    ),
    ColumnType.INTEGER: ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT"),
    ColumnType.DOUBLE: ("FLOAT", "DOUBLE", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
}
_TEXT_CASTABLE = ("VARCHAR", "JSON")
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
_TYPE_NAMES = {
    ColumnType.STRING: "a string",
    ColumnType.TIMESTAMP: "a timestamp",
    ColumnType.INTEGER: "an integer",
    ColumnType.DOUBLE: "a number",
}
_SHOWN_VALUE_CHARS = 80


@dataclass(frozen=True)
class Rule:
    condition: str
    """SQL that is true when the row breaks the rule (NULL counts as not broken)."""
    message: str
    """SQL text expression saying what is wrong, `<column>: ...`."""


def _shown(expression: str) -> str:
    """The offending value as it appears in a reason: quoted, shortened."""
    return (
        f"'''' || left(cast({expression} as varchar), {_SHOWN_VALUE_CHARS})"
        f" || case when length(cast({expression} as varchar)) > {_SHOWN_VALUE_CHARS}"
        " then '...' else '' end || ''''"
    )


def _typed(column: Column, source: str, source_type: str | None) -> tuple[str, bool]:
    """The expression casting the file's column to its contract type, and whether casting can
    fail for a non-null value (so that a NULL result means a wrong value)."""
    target = column.type.duckdb
    if source_type is None:
        return f"cast(null as {target})", False
    if column.type is ColumnType.STRING:
        return f"cast({source} as varchar)", False
    if source_type in _NATIVE_TYPES[column.type]:
        if column.type is ColumnType.TIMESTAMP:
            return _utc_timestamp(source), True
        return f"try_cast({source} as {target})", True
    if column.type is ColumnType.TIMESTAMP and source_type in _TEXT_CASTABLE:
        # Through TIMESTAMPTZ so that offsets (`Z`, `+02:00`) are honoured; naive text is UTC.
        return _utc_timestamp(f"try_cast(cast({source} as varchar) as timestamptz)"), True
    if column.type is not ColumnType.TIMESTAMP and (
        source_type in _TEXT_CASTABLE or source_type in _NUMERIC_TYPES
    ):
        return f"try_cast(cast({source} as varchar) as {target})", True
    return f"cast(null as {target})", True


def _utc_timestamp(instant: str) -> str:
    """The UTC timestamp of `instant` (any timestamp type), from its microseconds since the
    epoch: the same whatever the session's time zone, and several times cheaper than a cast of
    a TIMESTAMPTZ (which goes through the time zone's calendar). An infinite instant has no
    microseconds, so it is NULL: not a timestamp."""
    return f"make_timestamp(epoch_us({instant}))"


def _column_rules(column: Column, source: str, typed: str, can_fail: bool) -> list[Rule]:
    """The rules one column of the file must keep."""
    name = column.name
    rules: list[Rule] = []
    if column.required:
        blank = (
            f" or ltrim(cast({source} as varchar)) = ''" if column.type is ColumnType.STRING else ""
        )
        rules.append(Rule(f"{source} is null{blank}", f"'{name}: required value is missing'"))
    if can_fail:
        rules.append(
            Rule(
                f"{source} is not null and {typed} is null",
                f"'{name}: ' || {_shown(source)} || ' is not {_TYPE_NAMES[column.type]}'",
            )
        )
    if column.type is ColumnType.DOUBLE:
        rules.append(
            Rule(
                f"not isfinite({typed})",
                f"'{name}: ' || cast({typed} as varchar) || ' is not a finite number'",
            )
        )
    if column.accepted_values:
        allowed = ", ".join(sql_string(value) for value in column.accepted_values)
        rules.append(
            Rule(
                f"{typed} not in ({allowed})",
                f"'{name}: ' || {_shown(typed)} || ' is not one of "
                f"{', '.join(column.accepted_values)}'",
            )
        )
    if column.pattern:
        rules.append(
            Rule(
                f"not regexp_full_match({typed}, {sql_string(column.pattern)})",
                f"'{name}: ' || {_shown(typed)} || ' does not match {column.pattern}'",
            )
        )
    if column.json_object:
        rules.append(
            Rule(
                f"{typed} is not null and coalesce(json_type(try_cast({typed} as json)), '')"
                " <> 'OBJECT'",
                f"'{name}: ' || {_shown(typed)} || ' is not a JSON object'",
            )
        )
    if column.json_object:
        # DuckDB's JSON reader also takes a trailing comma and NaN / Infinity, which JSON does
        # not allow and other readers (Spark's, Python's) refuse: outside the strings, neither
        # may appear. The cheap first match keeps the string-stripping to the rare values that
        # may hold one: in a CASE, because DuckDB evaluates both sides of an AND on every row.
        lenient = r",\s*[}\]]|(^|[^A-Za-z0-9_])-?(NaN|Infinity)([^A-Za-z0-9_]|$)"
        strings = r'"([^"\\]|\\.)*"'
        stripped = f"regexp_replace({typed}, {sql_string(strings)}, '\"\"', 'g')"
        rules.append(
            Rule(
                f"case when regexp_matches({typed}, {sql_string(lenient)})"
                f" then regexp_matches({stripped}, {sql_string(lenient)}) end",
                f"'{name}: ' || {_shown(typed)} || ' is not strict JSON"
                " (a trailing comma, NaN or Infinity)'",
            )
        )
    if column.json_string_values:
        rules.append(
            Rule(
                f"json_type(try_cast({typed} as json)) = 'OBJECT' and not list_bool_and("
                f"list_transform(json_type(try_cast({typed} as json), '$.*'),"
                " lambda t: t = 'VARCHAR'))",
                f"'{name}: every value must be a string'",
            )
        )
    return rules


def _event_time_rule(typed: Mapping[str, str], future_tolerance_hours: int) -> Rule:
    """An event time (skew-corrected when sent_at is present) too far after received_at."""
    timestamp, sent_at, received_at = typed["timestamp"], typed["sent_at"], typed["received_at"]
    event_time = (
        f"case when {sent_at} is not null then {received_at} - ({sent_at} - {timestamp})"
        f" else {timestamp} end"
    )
    hours = int(future_tolerance_hours)
    return Rule(
        f"{event_time} > {received_at} + interval {hours} hour",
        f"'timestamp: event time ' || cast({event_time} as varchar) || ' is more than {hours}"
        f" hours after received_at ' || cast({received_at} as varchar)",
    )


def staging_select(
    dataset: Dataset,
    file_sql: str,
    file_columns: Mapping[str, str],
    *,
    source_file: str | None = None,
    source_file_sql: str | None = None,
    future_tolerance_hours: int,
) -> str:
    """The SELECT that reads landing files of one schema and validates them.

    `file_sql` is the table expression reading the files (with `file_row_number`), and
    `file_columns` maps each of the files' own column names to its DuckDB type. Each row's
    `_source_file` is `source_file` when the read holds one file, or `source_file_sql`, an
    expression over `src` (the read), when it holds several. The result has the contract's
    columns, `_source_file`, `_source_row`, `violations` (VARCHAR[]) and `raw_row`.
    A file missing a required column is unusable as a whole: every row is rejected, naming it.
    """
    if (source_file is None) == (source_file_sql is None):
        raise ValueError("give either source_file or source_file_sql")
    typed: dict[str, str] = {}
    rules: list[Rule] = []
    joins = ""
    for column in dataset.columns:
        source_type = file_columns.get(column.name)
        source = f"src.{quote_identifier(column.name)}"
        expression, can_fail = _typed(column, source, source_type)
        if column.name == "ip_address" and source_type is not None:
            joins = _anonymized_ips_join(file_sql, expression)
            expression = f"{_ADDRESSES}.anonymized"
            rules.append(
                Rule(
                    f"{source} is not null and {expression} is null",
                    "'ip_address: not an IPv4 or IPv6 address'",
                )
            )
        typed[column.name] = expression
        if source_type is not None:
            rules.extend(_column_rules(column, source, expression, can_fail))
    if dataset.name == EVENTS.name:
        rules.append(_event_time_rule(typed, future_tolerance_hours))

    missing = [name for name in dataset.required_columns if name not in file_columns]
    if missing:
        broken = "true"
        violations = (
            "["
            + ", ".join(
                sql_string(f"{name}: required column is missing from the file") for name in missing
            )
            + "]"
        )
    else:
        broken = " or ".join(f"coalesce({rule.condition}, false)" for rule in rules)
        messages = ", ".join(
            f"case when {rule.condition} then {rule.message} end" for rule in rules
        )
        violations = f"list_filter([{messages}], lambda v: v is not null)"

    # The violations are worked out once per row, by an inner select that keeps every column
    # of the read; the outer one casts and, for the rare broken rows, keeps the row as it was.
    violations_column = _unused_name("_violations", file_columns)
    address_column = _unused_name("_anonymized_ip", file_columns)
    checked = f"""
        select src.*,{f" {_ADDRESSES}.anonymized as {address_column}," if joins else ""}
            case when {broken} then {violations} else [] end as {violations_column}
        from {file_sql} as src{joins}"""
    if joins:
        typed["ip_address"] = f"src.{address_column}"

    # The row as it was, every column of the file, except that the IP address is anonymized
    # (or dropped when it is not an address): a raw address is never stored, even when rejected.
    as_it_was = ", ".join(
        f"{quote_identifier(name)} := "
        + (typed["ip_address"] if name == "ip_address" else f"src.{quote_identifier(name)}")
        for name in file_columns
        if name != "file_row_number"
    )
    typed_columns = ", ".join(f"{sql} as {quote_identifier(name)}" for name, sql in typed.items())
    return f"""
    select
        {typed_columns},
        {source_file_sql or sql_string(source_file)} as _source_file,
        src.file_row_number as _source_row,
        src.{violations_column} as violations,
        case when len(src.{violations_column}) > 0 then to_json(struct_pack({as_it_was})) end
            as raw_row
    from ({checked}) as src
    """


def _unused_name(name: str, file_columns: Mapping[str, str]) -> str:
    """`name`, with as many leading underscores as it takes to name no column of the file."""
    while name in file_columns:
        name = "_" + name
    return name


_ADDRESSES = "_addresses"


def _anonymized_ips_join(file_sql: str, address: str) -> str:
    """A join giving each row of `src` its anonymized `address` (an expression over `src`, as
    text) as `_addresses.anonymized`, anonymizing each distinct address of the read once."""
    distinct = f"select distinct {address} as address from {file_sql} as src"
    return f"""
    left join (
        select address, anonymize_ip(address) as anonymized from ({distinct})
    ) as {_ADDRESSES} on {_ADDRESSES}.address = {address}"""

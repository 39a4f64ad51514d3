"""The benchmark's result as a table for people."""

from __future__ import annotations

from orchestration.benchmark.dashboard import PageTiming
from orchestration.benchmark.pipeline import COUNTED_TABLES, RunMeasure
from orchestration.benchmark.run import (
    DASHBOARD_TARGET,
    DBT_BUILD_TARGET,
    FULL_BUILD_TARGET,
    NO_OP_TARGET,
    ONE_DAY_TARGET,
    PEAK_MEMORY_TARGET,
    BenchmarkResult,
)
from orchestration.benchmark.sparse import SparseResult

SLOWEST_NODES = 12


def _gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB"


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in numbers]
        return "  ".join(cells).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def _runs_table(runs: list[RunMeasure]) -> list[str]:
    stages = ["landing", "checks", "dbt build", "publish"]
    header = ["run", "wall s", *(f"{s} s" for s in stages), "Dagster overhead s", "peak memory"]
    rows = []
    for run in runs:
        per_stage = run.stage_seconds()
        rows.append(
            [
                f"{run.name}{'' if run.success else ' (FAILED)'}",
                f"{run.seconds:.1f}",
                *(f"{per_stage.get(s, 0.0):.1f}" for s in stages),
                f"{run.dagster_overhead_seconds:.1f}",
                _gib(run.peak_memory_bytes),
            ]
        )
    return _rows(header, rows)


def _publication_parts(runs: list[RunMeasure]) -> list[str]:
    """Where each publication's time went, for the runs that published."""
    parts = [
        f"{run.name} {seconds.get('copy', 0.0):.1f} / {seconds.get('tables', 0.0):.1f} / "
        f"{seconds.get('parquet', 0.0):.1f} s"
        for run in runs
        if (seconds := run.publication_seconds)
    ]
    if not parts:
        return []
    heading = "Publication, copying the last version's file / the marts / Parquet: "
    return ["", heading + "; ".join(parts)]


def render_dashboard_pages(pages: list[PageTiming]) -> list[str]:
    """One line per page: its DuckDB time, its queries and the time of the whole render."""
    return _rows(
        ["page", "query s", "queries", "slowest query s", "render s"],
        [
            [
                page.page,
                f"{page.query_seconds:.2f}",
                str(page.queries),
                f"{page.slowest_query_seconds:.2f}",
                f"{page.render_seconds:.2f}",
            ]
            for page in pages
        ],
    )


def render_sparse(result: SparseResult) -> str:
    config, machine = result.config, result.machine
    lines = [
        f"Sparse benchmark: {config['events']:,} events over {config['days']} days, and the "
        f"files of {config['days_with_files']} of those days spread over {config['range_days']} "
        f"days (seed {config['seed']}), commit {result.commit}",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}; DuckDB threads {config['duckdb_threads']}",
        "Landing: "
        + ", ".join(f"{rows:,} {name} rows" for name, rows in result.landing_rows.items())
        + "; files: "
        + ", ".join(f"{files:,} in the {name}" for name, files in result.files.items()),
        "",
        *_runs_table(result.runs),
        "",
        "Dagster overhead: the run's time outside any step (planning it, writing one planned "
        "event per asset and partition) plus the dbt steps' time outside dbt's own work.",
    ]
    return "\n".join(lines)


def render(result: BenchmarkResult) -> str:
    config, machine = result.config, result.machine
    lines = [
        f"Benchmark: {config['events']:,} events over {config['days']} days "
        f"(seed {config['seed']}), commit {result.commit}",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}; DuckDB threads {config['duckdb_threads']}, "
        f"memory_limit {config['duckdb_memory_limit']}",
        "Landing: "
        + ", ".join(f"{rows:,} {name} rows" for name, rows in result.landing_rows.items())
        + f", {_mib(result.landing_bytes)} of Parquet"
        + (
            f" (generated in {result.generate_seconds:.1f} s)"
            if result.generate_seconds is not None
            else " (generated before)"
        ),
        "",
    ]
    lines += _runs_table(result.runs)
    lines += _publication_parts(result.runs)

    full = result.run("full build")
    if result.floor is None:
        reason = f"failed: {result.floor_error}" if result.floor_error else "not run (--no-floor)"
        lines += ["", f"Floor: {reason}."]
    else:
        lines += ["", "Floor (bare DuckDB, same files, same process):"]
        lines += _rows(
            ["stage", "seconds", "rows", "pipeline rows", "pipeline table"],
            [
                [
                    stage.name,
                    f"{stage.seconds:.1f}",
                    f"{stage.rows:,}",
                    f"{full.row_counts.get(stage.name, 0):,}",
                    COUNTED_TABLES.get(stage.name, ""),
                ]
                for stage in result.floor.stages
            ]
            + [["total", f"{result.floor.seconds:.1f}", "", "", ""]],
        )
        lines.append(f"Floor peak memory: {_gib(result.floor_peak_memory_bytes)}")

    nodes = sorted(full.dbt_nodes, key=lambda node: node.seconds, reverse=True)
    lines += ["", f"Slowest dbt nodes of the full build (of {len(nodes)}, from run_results.json):"]
    lines += _rows(
        ["node", "seconds"],
        [[f"{node.resource_type} {node.node}", f"{node.seconds:.1f}"] for node in nodes][
            :SLOWEST_NODES
        ],
    )
    lines += [
        "",
        f"Warehouse file after the full build: {_mib(full.warehouse_bytes)}; "
        f"published marts: {_mib(full.published_bytes)}",
    ]
    if result.dashboard_pages is not None:
        lines += ["", "Dashboard pages on the last publication (default filters, nothing cached):"]
        lines += render_dashboard_pages(result.dashboard_pages)
    targets = result.targets
    if targets is None:
        return "\n".join([*lines, "", "Incomplete: no targets."])
    lines += ["", "Targets:"]
    values = {
        FULL_BUILD_TARGET: (
            f"{targets.build_above_no_op_per_floor:.2f}x the floor"
            if targets.build_above_no_op_per_floor is not None
            else ""
        ),
        DBT_BUILD_TARGET: (
            f"{targets.dbt_build_per_floor_compute:.2f}x"
            if targets.dbt_build_per_floor_compute is not None
            else ""
        ),
        ONE_DAY_TARGET: f"{targets.one_day_share_of_full_build:.1%} of the full build",
        NO_OP_TARGET: f"{targets.no_op_seconds:.1f} s",
        PEAK_MEMORY_TARGET: f"{targets.peak_memory_gib:.2f} GiB",
        DASHBOARD_TARGET: (
            f"{targets.slowest_dashboard_page_query_seconds:.2f} s on the slowest page"
            if targets.slowest_dashboard_page_query_seconds is not None
            else ""
        ),
    }
    for target, met in targets.met.items():
        lines.append(f"  {'met   ' if met else 'MISSED'}  {target}: {values[target]}")
    return "\n".join(lines)

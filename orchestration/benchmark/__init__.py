"""The benchmark: the whole pipeline on generated data, against bare DuckDB on the same files.

`warehouse-benchmark` generates a landing, runs a full build, one more arrival day and a run with
nothing new, runs the bare-DuckDB floor in the same process, times each page of the dashboard on
the publication the runs left, and reports times per stage and per dbt model, Dagster's overhead,
peak memory of the process tree and the warehouse size.
"""

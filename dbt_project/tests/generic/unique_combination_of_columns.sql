{#-
    No two rows share the same values in all the given columns. With `arrival_column`, a
    windowed run that leaves rows out (`tests_window_only`) tests the keys of the rows that
    arrived in its window against every row: a key that arrived again on another day still
    fails. Else a windowed run tests the keys of the rows it wrote (`rows_written_by_run`:
    those carrying its label in `written_by_run`, or a mart's logged changed keys) against
    every row.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, arrival_column=none, written_by_run=none) %}

{%- set keys = combination_of_columns | join(', ') %}
{%- set written = none if arrival_column else rows_written_by_run(model, combination_of_columns, written_by_run) %}
select
    {{ keys }},
    count(*) as row_count
{%- if tests_window_only(model, arrival_column) %}
from (select * from {{ model }}) as tested
where {{ keys_in('tested', combination_of_columns, 'select * from ' ~ model ~ ' where ' ~ arrived_in_window(arrival_column)) }}
{%- elif written is not none %}
from (select * from {{ model }}) as tested
where {{ keys_in('tested', written[0], written[1]) }}
{%- else %}
from {{ model }}
{%- endif %}
group by {{ keys }}
having count(*) > 1

{% endtest %}

{#-
    None of the given columns is NULL: the rows that hold a NULL in any of them fail, each with
    `null_columns`, the names of its NULL columns. One query for all of a table's required
    columns: on an engine with a fixed cost per query (Spark), a test per column cost as many.
    With `arrival_column`, a windowed run tests the rows that arrived in its window
    (`rows_to_test`).
-#}
{% test not_null_columns(model, columns, arrival_column=none) %}

select
    concat_ws(
        ', '
        {%- for column in columns %},
        case when {{ column }} is null then '{{ column }}' end
        {%- endfor %}
    ) as null_columns,
    *
from {{ rows_to_test(model, arrival_column) }}
where
    {%- for column in columns %}
    {% if not loop.first %}or {% endif %}{{ column }} is null
    {%- endfor %}

{% endtest %}

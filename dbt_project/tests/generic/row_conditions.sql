{#-
    Every row meets each of a table's value conditions; the rows that fail any carry
    `failed_conditions`, the conditions they fail ('; ' between them). One query for all of a
    table's value checks (as `not_null_columns` for its required columns): on an engine with a
    fixed cost per query (Spark), a test per condition cost as many.
    - ranges: {column: {min_value:, max_value:, inclusive: true}}, either bound optional; a NULL
      passes.
    - accepted_values: {column: [values]} (strings are quoted, numbers are not); a NULL passes.
    - expressions: [a SQL boolean over the row's columns]; NULL fails.
    With `arrival_column`, a windowed run tests the rows that arrived in its window
    (`rows_to_test`).
-#}
{% test row_conditions(model, ranges={}, accepted_values={}, expressions=[], arrival_column=none) %}

{%- set conditions = [] -%}
{%- for column, bounds in ranges.items() -%}
    {%- set inclusive = bounds.get('inclusive', true) -%}
    {%- set labels = [] -%}
    {%- set outside = [] -%}
    {%- if bounds.get('min_value') is not none -%}
        {%- do labels.append(column ~ (' >= ' if inclusive else ' > ') ~ bounds['min_value']) -%}
        {%- do outside.append(column ~ (' < ' if inclusive else ' <= ') ~ bounds['min_value']) -%}
    {%- endif -%}
    {%- if bounds.get('max_value') is not none -%}
        {%- do labels.append(column ~ (' <= ' if inclusive else ' < ') ~ bounds['max_value']) -%}
        {%- do outside.append(column ~ (' > ' if inclusive else ' >= ') ~ bounds['max_value']) -%}
    {%- endif -%}
    {%- if not outside -%}
        {{ exceptions.raise_compiler_error('row_conditions: the range of ' ~ column ~ ' has no bound') }}
    {%- endif -%}
    {%- do conditions.append({
        'label': labels | join(' and '),
        'fails': column ~ ' is not null and (' ~ outside | join(' or ') ~ ')',
    }) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ dbt.escape_single_quotes(value) ~ "'" if value is string else value | string) -%}
    {%- endfor -%}
    {%- do conditions.append({
        'label': column ~ ' in (' ~ values | join(', ') ~ ')',
        'fails': column ~ ' is not null and ' ~ column ~ ' not in (' ~ quoted | join(', ') ~ ')',
    }) -%}
{%- endfor -%}
{%- for expression in expressions -%}
    {%- do conditions.append({'label': expression, 'fails': 'not coalesce((' ~ expression ~ '), false)'}) -%}
{%- endfor -%}

select
    concat_ws(
        '; '
        {%- for condition in conditions %},
        case when {{ condition.fails }} then '{{ dbt.escape_single_quotes(condition.label) }}' end
        {%- endfor %}
    ) as failed_conditions,
    *
from {{ rows_to_test(model, arrival_column) }}
where
    {%- for condition in conditions %}
    {% if not loop.first %}or {% endif %}({{ condition.fails }})
    {%- endfor %}

{% endtest %}

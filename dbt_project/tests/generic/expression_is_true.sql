{#- Every row satisfies a SQL boolean expression over its columns. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}

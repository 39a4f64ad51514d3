{#- The credits of every conversion sum to 1 in every attribution model (to 1e-9). -#}
select
    tenant_id,
    message_id,
    attribution_model,
    sum(credit) as total_credit
from {{ ref('conversion_attribution') }}
group by tenant_id, message_id, attribution_model
having abs(sum(credit) - 1) > 1e-9

-- flowlake demo: the org's DORA metrics of the last three months, newest first.
select
    cast(period_start as date) as month,
    deployments,
    round(lead_time_p50_h, 1) as lead_time_p50_h,
    round(change_failure_rate, 3) as change_failure_rate,
    round(recovery_time_p50_h, 1) as recovery_time_p50_h,
    round(rework_rate, 3) as rework_rate,
    deployment_frequency_band,
    lead_time_band,
    change_failure_band,
    recovery_time_band
from mart_dora
where grain = 'month' and scope_type = 'org'
order by period_start desc
limit 3

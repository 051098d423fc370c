-- flowlake demo: the PR cycle-time breakdown (medians, hours) of the last 90 days of deploys.
select
    count(*) as prs,
    round(median(coding_time_h), 1) as coding_h,
    round(median(pickup_time_h), 1) as pickup_h,
    round(median(review_time_h), 1) as review_h,
    round(median(deploy_time_h), 1) as deploy_h,
    round(median(cycle_time_h), 1) as cycle_h
from fct_pull_requests
where deployed_at >= (select max(deployed_at) from fct_pull_requests) - interval '90 days'

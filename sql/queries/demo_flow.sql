-- flowlake demo: flow metrics per Jira project over the last 12 weeks.
select
    project,
    count(*) as weeks,
    sum(throughput) as done,
    round(avg(throughput), 1) as per_week,
    round(avg(wip), 1) as avg_wip,
    round(median(cycle_time_p50_d), 1) as cycle_p50_d,
    round(median(cycle_time_p85_d), 1) as cycle_p85_d,
    round(avg(flow_efficiency), 2) as flow_efficiency
from mart_flow_weekly
where week_start >= (select max(week_start) from mart_flow_weekly) - interval '84 days'
group by project
order by project

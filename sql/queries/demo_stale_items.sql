-- flowlake demo: the oldest stale items (age above the project's p85 cycle time).
select
    issue_key,
    project,
    status,
    round(age_d, 1) as age_d,
    round(cycle_time_p85_d, 1) as p85_cycle_d
from mart_aging_wip
where is_stale
order by age_d desc
limit 8

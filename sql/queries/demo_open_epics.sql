-- flowlake demo: the open epics forecast to finish last.
select
    project,
    scope_key as epic_key,
    remaining_items as remaining,
    p50_date,
    p85_date,
    p95_date
from mart_forecasts
where scope_type = 'epic'
order by p85_date desc, project, scope_key
limit 5

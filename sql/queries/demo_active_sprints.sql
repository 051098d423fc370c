-- flowlake demo: active sprints and the chance of finishing by their planned end.
select
    project,
    scope_name as sprint,
    remaining_items as remaining,
    target_date,
    round(probability_by_target, 2) as p_done_by_end
from mart_forecasts
where scope_type = 'sprint'
order by project

-- flowlake demo: stale items among the open in-progress ones.
select
    count(*) filter (where is_stale) as stale,
    count(*) as open_in_progress
from mart_aging_wip

-- flowlake forecast when --epic/--fix-version: the scope's items that are not done, and all
-- of them, in one project ($1). $2 is the epic key or null; $3 the fix version or null.
select
    count(*) filter (where coalesce(status_category, '') <> 'done') as remaining,
    count(*) as total
from fct_work_items
where
    deleted_at is null
    and project = $1
    and (
        ($2 is not null and epic_key = $2)
        or ($3 is not null and array_has(string_to_array(coalesce(fix_versions, ''), ','), $3))
    )

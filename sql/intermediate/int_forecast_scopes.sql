-- One row per open scope that `mart_forecasts` forecasts, per project it has work in:
--   epic         the items under an epic (`epic_key`) not done yet; the epic issue itself
--                (issue type `Epic`) is a container, not an item, and is not counted;
--   fix_version  a release: the items listing the version in `fix_versions` (comma-separated)
--                not done yet, epics left out; a version with nothing left is not open;
--   sprint       an active sprint of `mart_sprints`: every item in it not done yet, and its
--                planned end day as `target_date` (the question is "done by then?").
-- `remaining_points` sums the remaining items' story points (null when none is estimated);
-- `is_in_progress` says whether any remaining item is in an in-progress (`indeterminate`)
-- status: the epics a team works on now, which the forecast plans side by side. Deleted items
-- are left out. The forecast samples the project's `mart_throughput_daily`, so a scope whose
-- items span two projects is one row per project.
with work_items as (
    select * from fct_work_items
    where deleted_at is null
),

open_items as (
    select * from work_items
    where coalesce(status_category, '') <> 'done'
),

sprints as (
    select * from mart_sprints
),

open_epics as (
    select
        workspace,
        project,
        'epic' as scope_type,
        epic_key as scope_key,
        cast(null as varchar) as scope_name,
        count(*) as remaining_items,
        sum(story_points) as remaining_points,
        cast(null as date) as target_date,
        count(*) filter (where status_category = 'indeterminate') > 0 as is_in_progress
    from open_items
    where epic_key is not null
      and coalesce(issue_type, '') <> 'Epic'
    group by workspace, project, epic_key
),

release_items as (
    select
        workspace,
        project,
        status_category,
        story_points,
        trim(unnest(string_to_array(fix_versions, ','))) as version
    from work_items
    where fix_versions is not null
      and lower(coalesce(issue_type, '')) <> 'epic'
),

releases as (
    select
        workspace,
        project,
        'fix_version' as scope_type,
        version as scope_key,
        version as scope_name,
        count(*) filter (where coalesce(status_category, '') <> 'done') as remaining_items,
        sum(case when coalesce(status_category, '') <> 'done' then story_points end)
            as remaining_points,
        cast(null as date) as target_date,
        count(*) filter (where status_category = 'indeterminate') > 0 as is_in_progress
    from release_items
    where version <> ''
    group by workspace, project, version
    having count(*) filter (where coalesce(status_category, '') <> 'done') > 0
),

active_sprints as (
    select
        i.workspace,
        i.project,
        'sprint' as scope_type,
        cast(s.sprint_id as varchar) as scope_key,
        max(s.name) as scope_name,
        count(*) as remaining_items,
        sum(i.story_points) as remaining_points,
        cast(max(s.planned_end_at) as date) as target_date,
        count(*) filter (where i.status_category = 'indeterminate') > 0 as is_in_progress
    from open_items as i
    inner join sprints as s
        on s.workspace = i.workspace
       and s.sprint_id = i.sprint_id
    where s.state = 'active'
    group by i.workspace, i.project, s.sprint_id
),

scopes as (
    select * from open_epics
    union all
    select * from releases
    union all
    select * from active_sprints
),

final as (
    select
        cast(workspace as varchar) as workspace,
        cast(project as varchar) as project,
        cast(scope_type as varchar) as scope_type,
        cast(scope_key as varchar) as scope_key,
        cast(scope_name as varchar) as scope_name,
        cast(remaining_items as bigint) as remaining_items,
        cast(remaining_points as double) as remaining_points,
        target_date,
        is_in_progress
    from scopes
    where workspace is not null
      and project is not null
      and scope_key is not null
)

select * from final

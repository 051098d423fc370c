-- One row per (UTC day, project) from the project's first created day to the day of `as_of`,
-- days without completions included (zero): the Monte Carlo forecast reads it. `items_done`
-- counts the project's work items whose `done_at` falls on that day; deleted items are left
-- out.
with work_items as (
    -- Epics are containers of the flow, not items in it (their children are counted).
    select * from fct_work_items
    where deleted_at is null
      and lower(coalesce(issue_type, '')) <> 'epic'
),

as_of as (
    select * from int_jira_as_of
),

projects as (
    select
        w.workspace,
        w.project,
        cast(min(w.created_at) as date) as first_day,
        cast(a.as_of as date) as last_day
    from work_items as w
    inner join as_of as a
        on a.workspace = w.workspace
    where w.created_at is not null
    group by w.workspace, w.project, a.as_of
),

days as (
    select
        workspace,
        project,
        unnest(generate_series(first_day, last_day, interval '1 day')) as day
    from projects
    where first_day <= last_day
),

done as (
    select
        workspace,
        project,
        cast(done_at as date) as day,
        count(*) as items_done
    from work_items
    where done_at is not null
    group by workspace, project, cast(done_at as date)
),

project_teams as (
    select * from int_jira_project_teams
),

final as (
    select
        d.workspace,
        cast(d.day as date) as day,
        d.project,
        pt.team,
        cast(coalesce(x.items_done, 0) as bigint) as items_done
    from days as d
    left join project_teams as pt
        on pt.project = upper(d.project)
    left join done as x
        on x.workspace = d.workspace
       and x.project = d.project
       and x.day = cast(d.day as date)
)

select * from final

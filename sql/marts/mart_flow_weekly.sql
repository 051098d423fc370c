-- One row per (ISO week, project) from the week of the project's first created item to the
-- week of `as_of`, quiet weeks included. Deleted items are left out.
--   throughput        items whose done_at falls in the week
--   wip               items in an in-progress status at the week's end (at as_of for the
--                     current week)
--   cycle_time_p50_d / _p85_d   exact percentiles of the cycle time of the items done that week
--   flow_efficiency   over the items done that week: time in in-progress statuses that are not
--                     waiting / all time in in-progress statuses (null when there is none)
with work_items as (
    -- Epics are containers of the flow, not items in it (their children are counted).
    select * from fct_work_items
    where deleted_at is null
      and lower(coalesce(issue_type, '')) <> 'epic'
),

intervals as (
    select i.*
    from fct_status_intervals as i
    inner join work_items as w
        on w.workspace = i.workspace
       and w.issue_id = i.issue_id
    where i.deleted_at is null
),

as_of as (
    select * from int_jira_as_of
),

projects as (
    select
        w.workspace,
        w.project,
        date_trunc('week', min(w.created_at)) as first_week,
        date_trunc('week', a.as_of) as last_week,
        a.as_of
    from work_items as w
    inner join as_of as a
        on a.workspace = w.workspace
    where w.created_at is not null
    group by w.workspace, w.project, a.as_of
),

weeks as (
    select
        workspace,
        project,
        as_of,
        unnest(generate_series(first_week, last_week, interval '7 days')) as week_start
    from projects
    where first_week <= last_week
),

done_items as (
    select
        workspace,
        project,
        issue_id,
        date_trunc('week', done_at) as week_start,
        cycle_time_d
    from work_items
    where done_at is not null
),

done_stats as (
    select
        workspace,
        project,
        week_start,
        count(*) as throughput,
        quantile_cont(cycle_time_d, 0.5) as cycle_time_p50_d,
        quantile_cont(cycle_time_d, 0.85) as cycle_time_p85_d
    from done_items
    group by workspace, project, week_start
),

efficiency as (
    select
        d.workspace,
        d.project,
        d.week_start,
        sum(case when not i.is_waiting then i.duration_h else 0 end) as active_h,
        sum(i.duration_h) as in_progress_h
    from done_items as d
    inner join intervals as i
        on i.workspace = d.workspace
       and i.issue_id = d.issue_id
    where i.status_category = 'indeterminate'
      and i.duration_h is not null
    group by d.workspace, d.project, d.week_start
),

-- In progress at the week's end (the next Monday 00:00, or as_of if that is earlier).
wip as (
    select
        k.workspace,
        k.project,
        k.week_start,
        count(distinct i.issue_id) as wip
    from weeks as k
    inner join intervals as i
        on i.workspace = k.workspace
       and i.project = k.project
    where i.status_category = 'indeterminate'
      and i.entered_at < least(k.week_start + interval '7 days', k.as_of)
      and (i.exited_at is null or i.exited_at >= least(k.week_start + interval '7 days', k.as_of))
    group by k.workspace, k.project, k.week_start
),

project_teams as (
    select * from int_jira_project_teams
),

final as (
    select
        k.workspace,
        k.week_start,
        k.project,
        pt.team,
        cast(coalesce(d.throughput, 0) as bigint) as throughput,
        cast(coalesce(w.wip, 0) as bigint) as wip,
        d.cycle_time_p50_d,
        d.cycle_time_p85_d,
        case when e.in_progress_h > 0 then e.active_h / e.in_progress_h end as flow_efficiency
    from weeks as k
    left join project_teams as pt
        on pt.project = upper(k.project)
    left join done_stats as d
        on d.workspace = k.workspace
       and d.project = k.project
       and d.week_start = k.week_start
    left join efficiency as e
        on e.workspace = k.workspace
       and e.project = k.project
       and e.week_start = k.week_start
    left join wip as w
        on w.workspace = k.workspace
       and w.project = k.project
       and w.week_start = k.week_start
)

select * from final

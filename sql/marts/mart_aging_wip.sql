-- One row per open in-progress Jira item (status category `indeterminate` now, not deleted):
-- its age against the cycle times of the project's done items.
--   age_d              as_of - started_at, in days
--   cycle_time_p85_d   p85 of the history's cycle times; the history is the project's done items
--                      (done by as_of; within `cycle_time_window_d` days before it when set)
--   stale_threshold_d  the history's percentile at `stale_percentile` (0.85 by default)
--   age_percentile     share of the history with a cycle time <= age_d (null without history)
--   is_stale           age_d > stale_threshold_d (false without history)
with work_items as (
    -- Epics are containers of the flow, not items in it (their children are counted).
    select * from fct_work_items
    where deleted_at is null
      and lower(coalesce(issue_type, '')) <> 'epic'
),

as_of as (
    select * from int_jira_as_of
),

config as (
    select * from flowlake_config
),

flow_config as (
    select * from flowlake_flow_config
),

history as (
    select
        w.workspace,
        w.project,
        w.cycle_time_d
    from work_items as w
    inner join as_of as a
        on a.workspace = w.workspace
    cross join flow_config as f
    where w.cycle_time_d is not null
      and w.done_at <= a.as_of
      and (
        f.cycle_time_window_d is null
        or date_part('epoch', w.done_at)
            >= date_part('epoch', a.as_of) - f.cycle_time_window_d * 86400.0
      )
),

project_history as (
    select
        h.workspace,
        h.project,
        count(*) as history_items,
        quantile_cont(h.cycle_time_d, 0.85) as cycle_time_p85_d,
        quantile_cont(h.cycle_time_d, c.stale_percentile) as stale_threshold_d
    from history as h
    cross join config as c
    group by h.workspace, h.project
),

open_items as (
    select
        w.workspace,
        w.issue_key,
        w.issue_id,
        w.project,
        w.team,
        w.issue_type,
        w.status,
        w.assignee_account_id,
        w.story_points,
        w.started_at,
        a.as_of,
        (date_part('epoch', a.as_of) - date_part('epoch', w.started_at)) / 86400.0 as age_d
    from work_items as w
    inner join as_of as a
        on a.workspace = w.workspace
    where w.status_category = 'indeterminate'
      and w.started_at is not null
      and w.started_at <= a.as_of
),

ranked as (
    select
        o.workspace,
        o.issue_id,
        sum(case when h.cycle_time_d <= o.age_d then 1 else 0 end) as history_at_or_below
    from open_items as o
    inner join history as h
        on h.workspace = o.workspace
       and h.project = o.project
    group by o.workspace, o.issue_id
),

final as (
    select
        o.workspace,
        o.issue_key,
        o.issue_id,
        o.project,
        o.team,
        o.issue_type,
        o.status,
        o.assignee_account_id,
        o.story_points,
        o.started_at,
        o.as_of,
        o.age_d,
        p.cycle_time_p85_d,
        c.stale_percentile,
        p.stale_threshold_d,
        cast(r.history_at_or_below as double) / cast(p.history_items as double) as age_percentile,
        coalesce(o.age_d > p.stale_threshold_d, false) as is_stale,
        cast(coalesce(p.history_items, 0) as bigint) as history_items
    from open_items as o
    cross join config as c
    left join project_history as p
        on p.workspace = o.workspace
       and p.project = o.project
    left join ranked as r
        on r.workspace = o.workspace
       and r.issue_id = o.issue_id
)

select * from final

-- One row per Jira sprint with its scope change and completion, in story points (an issue
-- without points counts 0; deleted issues are left out). Membership comes from
-- int_jira_sprint_memberships, done-ness from the status visits. The sprint runs from
-- `started_at` (its start date) to `ended_at` (when it was completed; null while it runs, and
-- then it is measured at as_of). Per issue that was in the sprint at some point of that window:
--   committed   in the sprint at its start
--   added       not in it at the start, but in it later
--   removed     committed or added, but no longer in it at the end
--   completed   in it at the end and in a done status then; not_completed: in it, not done
-- so committed + added - removed = completed + not_completed. completion_ratio =
-- completed / (completed + not_completed). Sprints not started yet have null points.
with sprints as (
    select * from stg_jira__sprints
),

boards as (
    select * from stg_jira__boards
),

memberships as (
    select * from int_jira_sprint_memberships
),

work_items as (
    select * from fct_work_items
    where deleted_at is null
),

intervals as (
    select * from fct_status_intervals
    where deleted_at is null
),

as_of as (
    select * from int_jira_as_of
),

windows as (
    select
        s.workspace,
        s.sprint_id,
        s.board_id,
        s.name,
        s.state,
        s.start_date as started_at,
        case
            when s.state = 'closed' or s.complete_date is not null
                then coalesce(s.complete_date, s.end_date)
        end as ended_at,
        s.end_date as planned_end_at,
        a.as_of
    from sprints as s
    left join as_of as a
        on a.workspace = s.workspace
),

measured as (
    select
        *,
        coalesce(ended_at, as_of) as measured_at
    from windows
    where started_at is not null
),

-- One row per (sprint, issue) that was in the sprint at some point of its window.
scope as (
    select
        w.workspace,
        w.sprint_id,
        m.issue_id,
        w.measured_at,
        bool_or(
            m.added_at <= w.started_at
            and (m.removed_at is null or m.removed_at > w.started_at)
        ) as in_at_start,
        bool_or(
            m.added_at <= w.measured_at
            and (m.removed_at is null or m.removed_at >= w.measured_at)
        ) as in_at_end
    from measured as w
    inner join memberships as m
        on m.workspace = w.workspace
       and m.sprint_id = w.sprint_id
    where m.added_at <= w.measured_at
      and (m.removed_at is null or m.removed_at > w.started_at)
    group by w.workspace, w.sprint_id, m.issue_id, w.measured_at
),

done_at_end as (
    select distinct
        s.workspace,
        s.sprint_id,
        s.issue_id
    from scope as s
    inner join intervals as i
        on i.workspace = s.workspace
       and i.issue_id = s.issue_id
    where i.status_category = 'done'
      and i.entered_at <= s.measured_at
      and (i.exited_at is null or i.exited_at > s.measured_at)
),

flagged as (
    select
        s.workspace,
        s.sprint_id,
        s.in_at_start,
        s.in_at_end,
        d.issue_id is not null as is_done,
        coalesce(w.story_points, 0) as points
    from scope as s
    inner join work_items as w
        on w.workspace = s.workspace
       and w.issue_id = s.issue_id
    left join done_at_end as d
        on d.workspace = s.workspace
       and d.sprint_id = s.sprint_id
       and d.issue_id = s.issue_id
),

points as (
    select
        workspace,
        sprint_id,
        sum(case when in_at_start then points else 0 end) as committed_points,
        sum(case when not in_at_start then points else 0 end) as added_points,
        sum(case when not in_at_end then points else 0 end) as removed_points,
        sum(case when in_at_end and is_done then points else 0 end) as completed_points,
        sum(case when in_at_end and not is_done then points else 0 end) as not_completed_points,
        sum(case when in_at_start then 1 else 0 end) as committed_items,
        sum(case when in_at_end and is_done then 1 else 0 end) as completed_items
    from flagged
    group by workspace, sprint_id
),

project_teams as (
    select * from int_jira_project_teams
),

-- A board's own team (`[teams] jira_boards`, by board id or name) wins over its project's.
board_teams as (
    select
        lower(name) as board_key,
        min(team) as team
    from flowlake_teams
    where kind = 'jira_board'
    group by lower(name)
),

final as (
    select
        w.workspace,
        w.sprint_id,
        w.board_id,
        b.name as board,
        b.project_key as project,
        coalesce(bt_id.team, bt_name.team, pt.team) as team,
        w.name,
        w.state,
        w.started_at,
        w.ended_at,
        w.planned_end_at,
        case when w.started_at is not null then coalesce(p.committed_points, 0) end as committed_points,
        case when w.started_at is not null then coalesce(p.added_points, 0) end as added_points,
        case when w.started_at is not null then coalesce(p.removed_points, 0) end as removed_points,
        case when w.started_at is not null then coalesce(p.completed_points, 0) end as completed_points,
        case when w.started_at is not null then coalesce(p.not_completed_points, 0) end as not_completed_points,
        case
            when p.completed_points + p.not_completed_points > 0
                then p.completed_points / (p.completed_points + p.not_completed_points)
        end as completion_ratio,
        case when w.started_at is not null then cast(coalesce(p.committed_items, 0) as bigint) end as committed_items,
        case when w.started_at is not null then cast(coalesce(p.completed_items, 0) as bigint) end as completed_items
    from windows as w
    left join boards as b
        on b.workspace = w.workspace
       and b.board_id = w.board_id
    left join project_teams as pt
        on pt.project = upper(b.project_key)
    left join board_teams as bt_id
        on bt_id.board_key = cast(w.board_id as varchar)
    left join board_teams as bt_name
        on bt_name.board_key = lower(b.name)
    left join points as p
        on p.workspace = w.workspace
       and p.sprint_id = w.sprint_id
)

select * from final

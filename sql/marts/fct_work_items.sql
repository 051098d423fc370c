-- One row per Jira issue (deleted ones included, with `deleted_at`), under its current key and
-- project. Flow milestones come from the status visits:
--   started_at  the first visit to an in-progress (`indeterminate`) status;
--   done_at     the start of the current stretch of `done` statuses (the last move from a
--               not-done status into done), null unless the issue is done now;
--   cycle_time_d = done_at - started_at, lead_time_d = done_at - created_at (days).
-- The current status category is resolved like the visits' (override, Jira's category).
with issues as (
    select * from stg_jira__issues
),

transitions as (
    select * from int_jira_status_transitions
),

statuses as (
    select * from stg_jira__statuses
),

overrides as (
    select * from flowlake_status_overrides
),

identities as (
    select * from int_identities
),

jira_people as (
    select workspace, value as account_id, person_id
    from identities
    where source = 'jira'
),

overrides_by_name as (
    select
        lower(trim(status_name)) as name_key,
        min(lower(trim(status_category))) as status_category
    from overrides
    where status_name is not null
    group by lower(trim(status_name))
),

project_teams as (
    select * from int_jira_project_teams
),

current_status as (
    select
        i.workspace,
        i.issue_id,
        coalesce(s.name, i.status) as status,
        coalesce(o.status_category, s.category_key, i.status_category) as status_category
    from issues as i
    left join statuses as s
        on s.workspace = i.workspace
       and s.status_id = i.status_id
    left join overrides_by_name as o
        on o.name_key = lower(coalesce(s.name, i.status))
),

milestones as (
    select
        workspace,
        issue_id,
        min(case when status_category = 'indeterminate' then entered_at end) as started_at,
        max(
            case
                when status_category = 'done'
                 and (previous_status_category is null or previous_status_category <> 'done')
                    then entered_at
            end
        ) as last_done_at
    from transitions
    group by workspace, issue_id
),

joined as (
    select
        i.*,
        cs.status as current_status,
        cs.status_category as current_status_category,
        m.started_at,
        case
            when cs.status_category = 'done' then coalesce(m.last_done_at, i.resolution_date)
        end as done_at
    from issues as i
    inner join current_status as cs
        on cs.workspace = i.workspace
       and cs.issue_id = i.issue_id
    left join milestones as m
        on m.workspace = i.workspace
       and m.issue_id = i.issue_id
),

final as (
    select
        j.workspace,
        j.workspace || '/' || j.issue_key as work_item_key,
        j.issue_key,
        j.issue_id,
        j.project_key as project,
        pt.team,
        j.issue_type,
        j.summary,
        j.priority,
        j.current_status as status,
        j.current_status_category as status_category,
        j.created_at,
        j.updated_at,
        j.resolution_date,
        j.started_at,
        j.done_at,
        case
            when j.done_at is not null and j.started_at is not null
                then (date_part('epoch', j.done_at) - date_part('epoch', j.started_at)) / 86400.0
        end as cycle_time_d,
        case
            when j.done_at is not null and j.created_at is not null
                then (date_part('epoch', j.done_at) - date_part('epoch', j.created_at)) / 86400.0
        end as lead_time_d,
        j.story_points,
        j.epic_key,
        j.parent_key,
        j.sprint_id,
        j.assignee_account_id,
        -- The assignee's dim_people person (merged by e-mail or alias, else the account's own).
        jp.person_id as assignee_person_id,
        j.labels,
        j.components,
        j.fix_versions,
        j.deleted_at,
        j.deleted_reason
    from joined as j
    left join project_teams as pt
        on pt.project = upper(j.project_key)
    left join jira_people as jp
        on jp.workspace = j.workspace
       and jp.account_id = trim(j.assignee_account_id)
)

select * from final

-- One row per status visit of a Jira issue (`visit_seq` 1 is the status it was created in):
-- `exited_at` and `duration_h` are null while the issue is still in that status. Deleted
-- issues are kept (with `deleted_at`); the flow marts leave them out.
with transitions as (
    select * from int_jira_status_transitions
),

work_items as (
    select * from fct_work_items
),

project_teams as (
    select * from int_jira_project_teams
),

final as (
    select
        t.workspace,
        w.issue_key,
        t.issue_id,
        w.project,
        t.visit_seq,
        t.status,
        t.status_id,
        t.status_category,
        t.is_waiting,
        t.is_category_overridden,
        t.entered_at,
        t.exited_at,
        case
            when t.exited_at is not null
                then (date_part('epoch', t.exited_at) - date_part('epoch', t.entered_at)) / 3600.0
        end as duration_h,
        w.deleted_at,
        pt.team
    from transitions as t
    inner join work_items as w
        on w.workspace = t.workspace
       and w.issue_id = t.issue_id
    left join project_teams as pt
        on pt.project = upper(w.project)
)

select * from final

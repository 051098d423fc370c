-- Every status visit of every Jira issue: the status it was created in (at `created_at`), then
-- one visit per `status` changelog item, each exited by the next one (`exited_at` null for the
-- current status). The status category is resolved as: an override from
-- `flowlake_status_overrides` (matched on the lower-cased name), else Jira's category of the
-- status id, else of a status with that name, else (for the current status) the issue's own.
-- `is_waiting`: an in-progress status whose name matches `waiting_status_regex`.
with issues as (
    select * from stg_jira__issues
),

items as (
    select * from stg_jira__changelog_items
    where field_key = 'status'
),

statuses as (
    select * from stg_jira__statuses
),

overrides as (
    select * from flowlake_status_overrides
),

flow_config as (
    select * from flowlake_flow_config
),

status_items as (
    select
        workspace,
        issue_id,
        created_at,
        from_value,
        from_string,
        to_value,
        to_string,
        row_number() over (
            partition by workspace, issue_id
            order by changelog_seq
        ) as item_rank
    from items
),

-- The status an issue was created in: where its first status change came from, else the
-- status it is in now. Issues known only from a tombstone have no history.
initial_visits as (
    select
        i.workspace,
        i.issue_id,
        cast(0 as bigint) as item_rank,
        i.created_at as entered_at,
        case when f.issue_id is null then i.status_id else f.from_value end as status_id,
        case when f.issue_id is null then i.status else f.from_string end as status_name
    from issues as i
    left join status_items as f
        on f.workspace = i.workspace
       and f.issue_id = i.issue_id
       and f.item_rank = 1
    where i.created_at is not null
),

change_visits as (
    select
        s.workspace,
        s.issue_id,
        s.item_rank,
        s.created_at as entered_at,
        s.to_value as status_id,
        s.to_string as status_name
    from status_items as s
    inner join initial_visits as i
        on i.workspace = s.workspace
       and i.issue_id = s.issue_id
),

visits as (
    select * from initial_visits
    union all
    select * from change_visits
),

categories_by_name as (
    select
        workspace,
        lower(name) as name_key,
        min(category_key) as category_key
    from statuses
    group by workspace, lower(name)
),

overrides_by_name as (
    select
        lower(trim(status_name)) as name_key,
        min(lower(trim(status_category))) as status_category
    from overrides
    where status_name is not null
    group by lower(trim(status_name))
),

resolved as (
    select
        v.workspace,
        v.issue_id,
        v.item_rank,
        v.entered_at,
        v.status_id,
        coalesce(s.name, v.status_name) as status,
        coalesce(
            o.status_category,
            s.category_key,
            n.category_key,
            case when v.status_id = i.status_id then i.status_category end
        ) as status_category,
        o.status_category is not null as is_category_overridden
    from visits as v
    inner join issues as i
        on i.workspace = v.workspace
       and i.issue_id = v.issue_id
    left join statuses as s
        on s.workspace = v.workspace
       and s.status_id = v.status_id
    left join categories_by_name as n
        on n.workspace = v.workspace
       and n.name_key = lower(v.status_name)
    left join overrides_by_name as o
        on o.name_key = lower(coalesce(s.name, v.status_name))
),

final as (
    select
        r.workspace,
        r.issue_id,
        row_number() over (
            partition by r.workspace, r.issue_id
            order by r.item_rank
        ) as visit_seq,
        r.status_id,
        r.status,
        r.status_category,
        r.is_category_overridden,
        coalesce(
            r.status_category = 'indeterminate'
            and regexp_like(r.status, c.waiting_status_regex),
            false
        ) as is_waiting,
        lag(r.status_category) over (
            partition by r.workspace, r.issue_id
            order by r.item_rank
        ) as previous_status_category,
        r.entered_at,
        lead(r.entered_at) over (
            partition by r.workspace, r.issue_id
            order by r.item_rank
        ) as exited_at
    from resolved as r
    cross join flow_config as c
)

select * from final

-- One row per Jira issue (key: workspace, issue_id; the id survives a move between projects,
-- the key does not): the latest real version the connector wrote. A tombstone (a row with
-- `deleted_at`, every other field null) newer than that version marks the issue deleted but
-- never drops it: the issue keeps its last known fields and gets the tombstone's `deleted_at`
-- and `deleted_reason`. An issue known only from a tombstone keeps the tombstone's key.
with source as (
    select * from raw_jira_issues
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, issue_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

real_versioned as (
    select
        *,
        row_number() over (
            partition by workspace, issue_id
            order by _ingested_at desc, _run_id desc
        ) as real_rank
    from source
    where deleted_at is null
),

latest as (
    select * from versioned where version_rank = 1
),

latest_real as (
    select * from real_versioned where real_rank = 1
),

final as (
    select
        l.workspace,
        l.issue_id,
        coalesce(r.issue_key, l.issue_key) as issue_key,
        coalesce(r.project_key, l.project_key) as project_key,
        r.issue_type,
        r.summary,
        r.status,
        r.status_id,
        lower(r.status_category) as status_category,
        r.priority,
        r.created_at,
        r.updated_at,
        r.resolution_date,
        r.story_points,
        r.epic_key,
        r.parent_key,
        r.sprint_id,
        nullif(replace(r.sprint_ids, ' ', ''), '') as sprint_ids,
        r.assignee_account_id,
        r.assignee_name,
        lower(r.assignee_email) as assignee_email,
        r.reporter_account_id,
        r.labels,
        r.components,
        r.fix_versions,
        r.changelog_total,
        l.deleted_at,
        l.deleted_reason,
        l._ingested_at,
        l._run_id
    from latest as l
    left join latest_real as r
        on r.workspace = l.workspace
       and r.issue_id = l.issue_id
)

select * from final

-- One row per workflow status of a Jira site (key: workspace, status_id), latest version.
-- `category_key` is Jira's status category: new, indeterminate or done.
with source as (
    select * from raw_jira_statuses
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, status_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        status_id,
        name,
        lower(category_key) as category_key,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

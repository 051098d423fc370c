-- One row per (incident-labelled) issue, latest version.
with source as (
    select * from raw_github_issues
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, number
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        number,
        issue_id,
        title,
        lower(state) as state,
        lower(coalesce(labels, '')) as labels,
        author_login,
        created_at,
        updated_at,
        closed_at,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

-- Default-branch history: one row per commit, latest version.
with source as (
    select * from raw_github_commits
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, sha
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        sha,
        committed_at,
        authored_at,
        author_name,
        lower(author_email) as author_email,
        author_login,
        message,
        coalesce(parents, 1) as parents,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

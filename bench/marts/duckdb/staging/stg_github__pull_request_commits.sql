-- One row per (pull request, commit sha), latest version.
with source as (
    select * from raw_github_pull_request_commits
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, pr_number, sha
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        pr_number,
        sha,
        authored_at,
        committed_at,
        author_name,
        lower(author_email) as author_email,
        author_login,
        message,
        coalesce(additions, 0) as additions,
        coalesce(deletions, 0) as deletions,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

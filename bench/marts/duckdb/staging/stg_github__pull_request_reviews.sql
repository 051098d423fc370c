-- One row per review, latest version.
with source as (
    select * from raw_github_pull_request_reviews
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, pr_number, review_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        pr_number,
        review_id,
        reviewer_login,
        reviewer_type,
        upper(state) as state,
        submitted_at,
        coalesce(comments_total, 0) as comments_total,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

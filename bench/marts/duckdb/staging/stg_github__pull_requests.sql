-- One row per pull request: the latest version the connector wrote (raw is append-only).
with source as (
    select * from raw_github_pull_requests
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
        pr_id,
        title,
        upper(state) as state,
        coalesce(is_draft, false) as is_draft,
        author_login,
        author_type,
        created_at,
        updated_at,
        closed_at,
        merged_at,
        merge_commit_sha,
        base_ref,
        head_ref,
        coalesce(additions, 0) as additions,
        coalesce(deletions, 0) as deletions,
        coalesce(changed_files, 0) as changed_files,
        lower(coalesce(labels, '')) as labels,
        commits_total,
        reviews_total,
        deleted_at,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

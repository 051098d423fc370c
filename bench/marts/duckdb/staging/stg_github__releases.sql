-- One row per release, latest version.
with source as (
    select * from raw_github_releases
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, release_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        release_id,
        tag_name,
        name as release_name,
        target_commitish,
        coalesce(is_draft, false) as is_draft,
        coalesce(is_prerelease, false) as is_prerelease,
        created_at,
        published_at,
        author_login,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

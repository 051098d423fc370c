-- One row per GitHub Deployment with its latest status, latest version.
with source as (
    select * from raw_github_deployments
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, deployment_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        deployment_id,
        database_id,
        sha,
        environment,
        task,
        ref_name,
        created_at,
        updated_at,
        upper(state) as state,
        finished_at,
        creator_login,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

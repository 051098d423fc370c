-- One row per workflow run (its latest attempt), latest version.
with source as (
    select * from raw_github_workflow_runs
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, repo, run_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        repo,
        run_id,
        workflow_id,
        name as workflow_name,
        path as workflow_path,
        event,
        head_branch,
        head_sha,
        lower(status) as status,
        lower(conclusion) as conclusion,
        run_attempt,
        run_number,
        created_at,
        updated_at,
        run_started_at,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

-- One row per imported deployment event, latest version.
with raw_rows as (
    select * from raw_events_deployments
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, source, deployment_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from raw_rows
),

final as (
    select
        workspace,
        source,
        deployment_id,
        service,
        environment,
        sha,
        lower(status) as status,
        started_at,
        finished_at,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

-- One row per imported incident, latest version.
with raw_rows as (
    select * from raw_events_incidents
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, source, incident_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from raw_rows
),

final as (
    select
        workspace,
        source,
        incident_id,
        service,
        title,
        opened_at,
        resolved_at,
        severity,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

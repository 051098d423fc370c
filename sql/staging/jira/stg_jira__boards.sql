-- One row per board (key: workspace, board_id), latest version.
with source as (
    select * from raw_jira_boards
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, board_id
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        board_id,
        name,
        lower(board_type) as board_type,
        project_key,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

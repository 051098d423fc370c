-- One row per sprint (key: workspace, sprint_id), latest version. A sprint shared by several
-- boards is read once per board; the row read from its origin board wins a tie.
with source as (
    select * from raw_jira_sprints
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, sprint_id
            order by
                _ingested_at desc,
                _run_id desc,
                case when board_id = origin_board_id then 0 else 1 end,
                board_id
        ) as version_rank
    from source
),

final as (
    select
        workspace,
        sprint_id,
        coalesce(origin_board_id, board_id) as board_id,
        name,
        lower(state) as state,
        start_date,
        end_date,
        complete_date,
        goal,
        _ingested_at,
        _run_id
    from versioned
    where version_rank = 1
)

select * from final

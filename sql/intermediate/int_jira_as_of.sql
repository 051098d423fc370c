-- "Now" for the flow marts, per Jira workspace: `flowlake_flow_config.as_of` when set, else the
-- latest `_ingested_at` of the workspace's issues (the moment the data describes), so a build
-- never reads the wall clock.
with issues as (
    select * from stg_jira__issues
),

flow_config as (
    select * from flowlake_flow_config
),

data_as_of as (
    select
        workspace,
        max(_ingested_at) as data_as_of
    from issues
    group by workspace
),

final as (
    select
        d.workspace,
        coalesce(c.as_of, d.data_as_of) as as_of
    from data_as_of as d
    cross join flow_config as c
)

select * from final

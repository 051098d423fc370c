-- One row per incident, with its recovery time and the deployment it is attributed to.
with incidents as (
    select * from int_incidents
),

teams as (
    select * from flowlake_teams
),

repo_teams as (
    select
        name as repo,
        min(team) as team
    from teams
    where kind = 'repo'
    group by name
),

final as (
    select
        i.workspace,
        i.incident_key,
        i.source,
        i.repo,
        rt.team,
        i.title,
        i.severity,
        i.opened_at,
        i.resolved_at,
        i.restore_time_h,
        i.deployment_key,
        i.deployment_key is not null as is_attributed,
        i.source_workspace
    from incidents as i
    left join repo_teams as rt
        on rt.repo = i.repo
)

select * from final

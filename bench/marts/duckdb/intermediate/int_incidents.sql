-- Incidents from GitHub issues carrying the incident label and from the events file, each
-- attributed to the latest successful production deployment of the same repo/service that
-- finished at or before the incident opened, if that deployment finished within
-- incident_window_h hours of the opening (otherwise unattributed).
with issues as (
    select * from stg_github__issues
),

event_incidents as (
    select * from stg_events__incidents
),

deployments as (
    select * from int_deployments
),

config as (
    select * from flowlake_config
),

from_issues as (
    select
        i.workspace,
        i.workspace || '/' || i.repo || '/issues/' || cast(i.number as varchar) as incident_key,
        'github_issue' as source,
        i.repo,
        i.title,
        cast(null as varchar) as severity,
        i.created_at as opened_at,
        case when i.state = 'closed' then i.closed_at end as resolved_at
    from issues as i
    cross join config
    where strpos(
            ',' || replace(i.labels, ', ', ',') || ',',
            ',' || lower(config.incident_label) || ','
        ) > 0
),

from_events as (
    select
        e.workspace,
        e.workspace || '/' || e.source || '/' || e.incident_id as incident_key,
        e.source,
        e.service as repo,
        e.title,
        e.severity,
        e.opened_at,
        e.resolved_at
    from event_incidents as e
),

incidents as (
    select * from from_issues
    union all
    select * from from_events
),

candidates as (
    select
        i.incident_key,
        d.deployment_key,
        row_number() over (
            partition by i.incident_key
            order by d.finished_at desc, d.deployment_key desc
        ) as candidate_rank
    from incidents as i
    cross join config
    inner join deployments as d
        on d.workspace = i.workspace
       and d.repo = i.repo
    where d.is_success
      and d.finished_at <= i.opened_at
      and (date_part('epoch', i.opened_at) - date_part('epoch', d.finished_at)) / 3600.0
          <= config.incident_window_h
),

final as (
    select
        i.workspace,
        i.incident_key,
        i.source,
        i.repo,
        i.title,
        i.severity,
        i.opened_at,
        i.resolved_at,
        case
            when i.resolved_at >= i.opened_at
                then (date_part('epoch', i.resolved_at) - date_part('epoch', i.opened_at)) / 3600.0
        end as restore_time_h,
        c.deployment_key
    from incidents as i
    left join candidates as c
        on c.incident_key = i.incident_key
       and c.candidate_rank = 1
)

select * from final

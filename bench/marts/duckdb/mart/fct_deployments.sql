-- One row per production deployment attempt (every status). DORA counts is_success rows.
--   caused_incident: a successful deployment some incident is attributed to (int_incidents).
--   is_rework: a successful deployment that ships a hotfix/revert PR (labels or title match
--   hotfix_regex) or that finished within incident_window_h after an incident of the same
--   repo opened (it resolves an incident).
with deployments as (
    select * from int_deployments
),

incidents as (
    select * from int_incidents
),

pr_deployments as (
    select * from int_pull_request_deployments
),

pull_requests as (
    select * from int_pull_requests
),

teams as (
    select * from flowlake_teams
),

config as (
    select * from flowlake_config
),

repo_teams as (
    select
        name as repo,
        min(team) as team
    from teams
    where kind = 'repo'
    group by name
),

caused as (
    select
        deployment_key,
        count(*) as incidents_caused
    from incidents
    where deployment_key is not null
    group by deployment_key
),

shipped as (
    select
        pd.deployment_key,
        count(*) as prs_shipped,
        max(case when p.is_hotfix then 1 else 0 end) as hotfix_prs_shipped
    from pr_deployments as pd
    inner join pull_requests as p
        on p.pr_key = pd.pr_key
    group by pd.deployment_key
),

resolving as (
    select distinct d.deployment_key
    from deployments as d
    cross join config
    inner join incidents as i
        on i.workspace = d.workspace
       and i.repo = d.repo
    where d.is_success
      and d.finished_at > i.opened_at
      and (date_part('epoch', d.finished_at) - date_part('epoch', i.opened_at)) / 3600.0
          <= config.incident_window_h
),

final as (
    select
        d.workspace,
        d.deployment_key,
        d.repo,
        rt.team,
        d.environment,
        d.source,
        d.sha,
        d.status,
        d.is_success,
        d.started_at,
        d.finished_at,
        coalesce(s.prs_shipped, 0) as prs_shipped,
        d.is_success and coalesce(c.incidents_caused, 0) > 0 as caused_incident,
        coalesce(c.incidents_caused, 0) as incidents_caused,
        d.is_success and coalesce(s.hotfix_prs_shipped, 0) > 0 as ships_hotfix,
        d.is_success and r.deployment_key is not null as resolves_incident,
        d.is_success and (coalesce(s.hotfix_prs_shipped, 0) > 0 or r.deployment_key is not null) as is_rework
    from deployments as d
    left join repo_teams as rt
        on rt.repo = d.repo
    left join caused as c
        on c.deployment_key = d.deployment_key
    left join shipped as s
        on s.deployment_key = d.deployment_key
    left join resolving as r
        on r.deployment_key = d.deployment_key
)

select * from final

-- Incidents from GitHub issues carrying the incident label, from the events file and from
-- Jira (issues of type Incident, or carrying the incident label; not deleted), each
-- attributed to the latest successful production deployment of the same repo/service that
-- finished at or before the incident opened, if that deployment finished within
-- incident_window_h hours of the opening (otherwise unattributed).
--
-- A Jira incident names its service in its first component; it maps to the deployed repo whose
-- full name (`acme/api`) or name (`api`) equals it, case-insensitively, and then counts in that
-- repo's workspace (so DORA sees GitHub and Jira incidents of one org together);
-- `source_workspace` keeps the Jira site. Unmapped, it keeps the component as `repo` and the
-- site as workspace, unattributed.
-- The same incident recorded in two tools (same repo, opened within 30 minutes) is counted
-- once: the GitHub issue wins over the events row, which wins over the Jira issue.
with issues as (
    select * from stg_github__issues
),

jira_issues as (
    select * from stg_jira__issues
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

deployed_repos as (
    select
        repo,
        min(workspace) as workspace,
        lower(repo) as full_key,
        lower(case when strpos(repo, '/') > 0 then split_part(repo, '/', 2) else repo end)
            as name_key
    from deployments
    group by repo
),

jira_incidents as (
    select
        j.*,
        trim(split_part(coalesce(j.components, ''), ',', 1)) as service
    from jira_issues as j
    cross join config
    where j.deleted_at is null
      and j.created_at is not null
      and (
          lower(coalesce(j.issue_type, '')) = 'incident'
          or strpos(
              ',' || lower(replace(coalesce(j.labels, ''), ', ', ',')) || ',',
              ',' || lower(config.incident_label) || ','
          ) > 0
      )
),

jira_repo_candidates as (
    select
        j.workspace as jira_workspace,
        j.issue_id,
        r.repo,
        r.workspace,
        row_number() over (
            partition by j.workspace, j.issue_id
            order by case when r.full_key = lower(j.service) then 0 else 1 end, r.repo
        ) as match_rank
    from jira_incidents as j
    inner join deployed_repos as r
        on r.full_key = lower(j.service)
        or r.name_key = lower(j.service)
    where j.service <> ''
),

from_jira as (
    select
        coalesce(r.workspace, j.workspace) as workspace,
        j.workspace || '/jira/' || j.issue_key as incident_key,
        'jira' as source,
        coalesce(r.repo, nullif(j.service, '')) as repo,
        j.summary as title,
        j.priority as severity,
        j.created_at as opened_at,
        j.resolution_date as resolved_at,
        j.workspace as source_workspace
    from jira_incidents as j
    left join jira_repo_candidates as r
        on r.jira_workspace = j.workspace
       and r.issue_id = j.issue_id
       and r.match_rank = 1
),

all_incidents as (
    select *, workspace as source_workspace, 1 as source_priority from from_issues
    union all
    select *, workspace as source_workspace, 2 as source_priority from from_events
    union all
    select
        workspace, incident_key, source, repo, title, severity, opened_at, resolved_at,
        source_workspace, 3 as source_priority
    from from_jira
),

-- An incident another tool already recorded (same repo, within 30 minutes, a tool of higher
-- priority): dropped.
duplicates as (
    select distinct a.incident_key
    from all_incidents as a
    inner join all_incidents as b
        on b.repo = a.repo
       and b.workspace = a.workspace
       and b.source_priority < a.source_priority
       and abs(date_part('epoch', b.opened_at) - date_part('epoch', a.opened_at)) <= 1800
),

incidents as (
    select a.*
    from all_incidents as a
    left join duplicates as d
        on d.incident_key = a.incident_key
    where d.incident_key is null
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
        i.source_workspace,
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

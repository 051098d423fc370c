-- Every production deployment attempt, unified from the four sources:
--   GitHub Deployments in an environment matching production_env_regex,
--   runs of a workflow whose name or path matches deploy_workflow_regex on the default branch,
--   published releases (only when releases_are_deploys),
--   rows of an imported events file.
-- is_success marks the ones DORA counts.
with github_deployments as (
    select * from stg_github__deployments
),

workflow_runs as (
    select * from stg_github__workflow_runs
),

releases as (
    select * from stg_github__releases
),

event_deployments as (
    select * from stg_events__deployments
),

default_branches as (
    select * from int_repo_default_branches
),

commit_positions as (
    select * from int_commit_positions
),

config as (
    select * from flowlake_config
),

from_github_deployments as (
    select
        d.workspace,
        d.workspace || '/' || d.repo || '/deployments/' || d.deployment_id as deployment_key,
        'github_deployment' as source,
        d.repo,
        d.environment,
        d.sha,
        -- GitHub turns a successful deployment INACTIVE once a newer one succeeds in the same
        -- environment: a finished INACTIVE deployment was a success.
        case
            when d.state = 'SUCCESS' then 'success'
            when d.state = 'INACTIVE' and d.finished_at is not null then 'success'
            else lower(d.state)
        end as status,
        d.created_at as started_at,
        d.finished_at
    from github_deployments as d
    cross join config
    where regexp_matches(lower(d.environment), config.production_env_regex)
),

from_workflow_runs as (
    select
        r.workspace,
        r.workspace || '/' || r.repo || '/actions/runs/' || cast(r.run_id as varchar) as deployment_key,
        'workflow_run' as source,
        r.repo,
        'production' as environment,
        r.head_sha as sha,
        case
            when r.status = 'completed' then coalesce(r.conclusion, 'unknown')
            else r.status
        end as status,
        coalesce(r.run_started_at, r.created_at) as started_at,
        case when r.status = 'completed' then r.updated_at end as finished_at
    from workflow_runs as r
    cross join config
    left join default_branches as b
        on b.workspace = r.workspace
       and b.repo = r.repo
    where regexp_matches(
            coalesce(r.workflow_name, '') || ' ' || coalesce(r.workflow_path, ''),
            config.deploy_workflow_regex
        )
      and (
            r.head_branch = b.default_branch
            or (b.default_branch is null and r.head_branch in ('main', 'master'))
        )
),

from_releases as (
    select
        rl.workspace,
        rl.workspace || '/' || rl.repo || '/releases/' || cast(rl.release_id as varchar) as deployment_key,
        'release' as source,
        rl.repo,
        'production' as environment,
        -- target_commitish is usually a branch name; only a full sha pins the release.
        case
            when regexp_matches(rl.target_commitish, '^[0-9a-f]{40}$') then rl.target_commitish
        end as sha,
        'success' as status,
        rl.created_at as started_at,
        rl.published_at as finished_at
    from releases as rl
    cross join config
    where config.releases_are_deploys
      and not rl.is_draft
      and not rl.is_prerelease
      and rl.published_at is not null
),

from_events as (
    select
        e.workspace,
        e.workspace || '/' || e.source || '/' || e.deployment_id as deployment_key,
        'events' as source,
        e.service as repo,
        coalesce(e.environment, 'production') as environment,
        e.sha,
        e.status,
        e.started_at,
        e.finished_at
    from event_deployments as e
    cross join config
    where e.environment is null
       or regexp_matches(lower(e.environment), config.production_env_regex)
),

unioned as (
    select * from from_github_deployments
    union all
    select * from from_workflow_runs
    union all
    select * from from_releases
    union all
    select * from from_events
),

positioned as (
    select
        u.*,
        p.history_position
    from unioned as u
    left join commit_positions as p
        on p.workspace = u.workspace
       and p.repo = u.repo
       and p.sha = u.sha
),

final as (
    select
        workspace,
        deployment_key,
        source,
        repo,
        environment,
        sha,
        status,
        coalesce(status = 'success' and finished_at is not null, false) as is_success,
        started_at,
        finished_at,
        history_position
    from positioned
)

select * from final

-- Each merged pull request linked to the first successful production deployment that shipped
-- its merge commit.
--
-- With linear default-branch history, deployment D at sha S ships every commit after the
-- previous successful deployment's sha up to and including S. So D ships a PR when the
-- position of S in history is >= the position of the PR's merge commit, and the PR's
-- deployment is the earliest-finishing such D. The first deployment of a repo ships
-- everything before it. When either sha is missing from history (history not ingested, a
-- release without a sha, an events row), fall back to time: D ships the PR when it finished at
-- or after the merge. PRs merged into another branch than the default branch are not linked
-- by time.
--
-- Every rule is a "first deployment at or past a point" search. Joining each PR to each
-- deployment of its repo and ranking is quadratic (a repo with 5,000 PRs and 1,000
-- deployments makes 5 million pairs), so each search is a sort instead: PRs and deployments
-- go into one ordered stream per repo, and a window takes the next deployment at or after
-- each PR.
with pull_requests as (
    select * from int_pull_requests
),

deployments as (
    select * from int_deployments
),

merged as (
    select
        workspace,
        pr_key,
        repo,
        merged_at,
        merge_position,
        targets_default_branch
    from pull_requests
    where merged_at is not null
),

successful as (
    select
        workspace,
        repo,
        deployment_key,
        finished_at,
        history_position
    from deployments
    where is_success
),

-- Position rule. In finish order, a deployment has shipped everything up to the highest
-- position deployed so far (`shipped_through`); the first deployment whose shipped_through
-- reaches a PR's merge position is the first that shipped it. Only deployments that raise
-- shipped_through can be that first one.
positioned as (
    select
        workspace,
        repo,
        deployment_key,
        finished_at,
        max(history_position) over (
            partition by workspace, repo
            order by finished_at, deployment_key
            rows between unbounded preceding and current row
        ) as shipped_through
    from successful
    where history_position is not null
),

frontier as (
    select *
    from (
        select
            *,
            coalesce(
                lag(shipped_through) over (
                    partition by workspace, repo
                    order by finished_at, deployment_key
                ),
                0
            ) as shipped_before
        from positioned
    ) as p
    where shipped_through > shipped_before
),

by_position_stream as (
    select workspace, repo, pr_key, merge_position as position, 0 as is_deployment
    from merged
    where merge_position is not null
    union all
    select workspace, repo, null as pr_key, shipped_through as position, 1 as is_deployment
    from frontier
),

by_position_next as (
    select
        workspace,
        repo,
        pr_key,
        min(case when is_deployment = 1 then position end) over (
            partition by workspace, repo
            order by position, is_deployment
            rows between current row and unbounded following
        ) as shipped_through
    from by_position_stream
),

by_position as (
    select n.workspace, n.pr_key, f.deployment_key, f.finished_at
    from by_position_next as n
    inner join frontier as f
        on f.workspace = n.workspace
       and f.repo = n.repo
       and f.shipped_through = n.shipped_through
    where n.pr_key is not null
),

-- Time rule: a PR with a history position can still be shipped by a deployment that has
-- none (an events row, a release); a PR without one falls back to time against every
-- deployment. Either way it is the first deployment finished at or after the merge.
by_time_stream as (
    select
        workspace,
        repo,
        pr_key,
        merge_position is not null as pr_positioned,
        merged_at as at,
        0 as is_deployment,
        cast(null as boolean) as deployment_positioned
    from merged
    where targets_default_branch
    union all
    select
        workspace,
        repo,
        null as pr_key,
        cast(null as boolean) as pr_positioned,
        finished_at as at,
        1 as is_deployment,
        history_position is not null as deployment_positioned
    from successful
),

by_time_next as (
    select
        workspace,
        repo,
        pr_key,
        pr_positioned,
        -- The next deployment of either kind, and the next one without a position.
        min(case when is_deployment = 1 then at end) over (
            partition by workspace, repo
            order by at, is_deployment
            rows between current row and unbounded following
        ) as next_any_at,
        min(case when is_deployment = 1 and not deployment_positioned then at end) over (
            partition by workspace, repo
            order by at, is_deployment
            rows between current row and unbounded following
        ) as next_unpositioned_at
    from by_time_stream
),

first_at as (
    select
        workspace,
        repo,
        finished_at,
        history_position is not null as is_positioned,
        min(deployment_key) as deployment_key
    from successful
    group by workspace, repo, finished_at, history_position is not null
),

by_time as (
    select n.workspace, n.pr_key, d.deployment_key, d.finished_at
    from by_time_next as n
    inner join first_at as d
        on d.workspace = n.workspace
       and d.repo = n.repo
       and d.finished_at = n.next_unpositioned_at
       and not d.is_positioned
    where n.pr_key is not null and n.pr_positioned
    union all
    select n.workspace, n.pr_key, min(d.deployment_key) as deployment_key, d.finished_at
    from by_time_next as n
    inner join first_at as d
        on d.workspace = n.workspace
       and d.repo = n.repo
       and d.finished_at = n.next_any_at
    where n.pr_key is not null and not n.pr_positioned
    group by n.workspace, n.pr_key, d.finished_at
),

candidates as (
    select * from by_position
    union all
    select * from by_time
),

ranked as (
    select
        *,
        row_number() over (
            partition by pr_key
            order by finished_at, deployment_key
        ) as deployment_rank
    from candidates
),

final as (
    select
        workspace,
        pr_key,
        deployment_key,
        finished_at as deployed_at
    from ranked
    where deployment_rank = 1
)

select * from final

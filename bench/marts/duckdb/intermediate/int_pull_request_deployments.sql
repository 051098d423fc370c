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

candidates as (
    select
        m.workspace,
        m.pr_key,
        d.deployment_key,
        d.finished_at
    from merged as m
    inner join successful as d
        on d.workspace = m.workspace
       and d.repo = m.repo
    where case
            when m.merge_position is not null and d.history_position is not null
                then d.history_position >= m.merge_position
            else m.targets_default_branch and d.finished_at >= m.merged_at
        end
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

-- One row per pull request, with its cycle time split into four consecutive parts:
--
--   cycle_started_at = the earlier of the first commit and the PR's creation
--   coding   = cycle_started_at -> created_at
--   pickup   = created_at       -> picked_up_at (first review before the merge; a PR merged
--                                                 without one is picked up at creation)
--   review   = picked_up_at     -> merged_at
--   deploy   = merged_at        -> deployed_at
--
-- For a merged PR, coding + pickup + review (+ deploy when deployed) = cycle_time_h, which ends
-- at deployed_at when deployed, else at merged_at. lead_time_h (DORA) = cycle_time_h of a
-- deployed PR.
with pull_requests as (
    select * from int_pull_requests
),

pr_deployments as (
    select * from int_pull_request_deployments
),

teams as (
    select * from flowlake_teams
),

person_teams as (
    select
        lower(name) as person_id,
        min(team) as team
    from teams
    where kind = 'person'
    group by lower(name)
),

repo_teams as (
    select
        name as repo,
        min(team) as team
    from teams
    where kind = 'repo'
    group by name
),

joined as (
    select
        p.*,
        pd.deployment_key,
        pd.deployed_at,
        coalesce(pt.team, rt.team) as team
    from pull_requests as p
    left join pr_deployments as pd
        on pd.pr_key = p.pr_key
    left join person_teams as pt
        on pt.person_id = p.author_person_id
    left join repo_teams as rt
        on rt.repo = p.repo
),

milestones as (
    select
        *,
        case
            when first_commit_at is not null and first_commit_at < created_at then first_commit_at
            else created_at
        end as cycle_started_at,
        case
            when merged_at is null then null
            when first_review_at is not null and first_review_at <= merged_at
                then greatest(first_review_at, created_at)
            else created_at
        end as picked_up_at,
        case
            when merged_at is null then null
            when deployed_at is not null then greatest(deployed_at, merged_at)
            else merged_at
        end as cycle_ended_at
    from joined
),

final as (
    select
        workspace,
        pr_key,
        repo,
        number,
        title,
        state,
        is_draft,
        labels,
        is_hotfix,
        author_login,
        author_person_id,
        is_bot_author,
        team,
        created_at,
        first_commit_at,
        first_review_at,
        approved_at,
        merged_at,
        closed_at,
        deployed_at,
        deployment_key,
        additions,
        deletions,
        changed_files,
        commits,
        reviews,
        (date_part('epoch', created_at) - date_part('epoch', cycle_started_at)) / 3600.0 as coding_time_h,
        case
            when merged_at is not null
                then (date_part('epoch', picked_up_at) - date_part('epoch', created_at)) / 3600.0
            when first_review_at is not null
                then (date_part('epoch', first_review_at) - date_part('epoch', created_at)) / 3600.0
        end as pickup_time_h,
        (date_part('epoch', merged_at) - date_part('epoch', picked_up_at)) / 3600.0 as review_time_h,
        case
            when deployed_at is not null
                then (date_part('epoch', cycle_ended_at) - date_part('epoch', merged_at)) / 3600.0
        end as deploy_time_h,
        (date_part('epoch', cycle_ended_at) - date_part('epoch', cycle_started_at)) / 3600.0 as cycle_time_h,
        case
            when deployed_at is not null
                then (date_part('epoch', cycle_ended_at) - date_part('epoch', cycle_started_at)) / 3600.0
        end as lead_time_h,
        deleted_at
    from milestones
)

select * from final

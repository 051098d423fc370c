-- One row per (ISO week, person, team) with activity: PRs opened and merged, reviews given (to
-- other people's PRs), median cycle and pickup time and lines changed of the PRs merged that
-- week. Bots and deleted PRs are left out. Logins are resolved to dim_people persons (merged
-- identities, int_identities). A person in two teams has one row per team (each with all of
-- the person's activity: sum over distinct persons, not rows, for org totals); a person in no
-- team has one row with a null team.
with pull_requests as (
    select * from fct_pull_requests
),

reviews as (
    select * from stg_github__pull_request_reviews
),

people as (
    select * from dim_people
),

identities as (
    select * from int_identities
),

login_people as (
    select workspace, value as github_person_id, person_id
    from identities
    where source = 'github'
),

opened as (
    select
        workspace,
        author_person_id as github_person_id,
        cast(null as varchar) as author_github_id,
        date_trunc('week', created_at) as week_start,
        'opened' as activity,
        cast(null as double) as cycle_time_h,
        cast(null as double) as pickup_time_h,
        cast(0 as bigint) as additions,
        cast(0 as bigint) as deletions
    from pull_requests
    where author_person_id is not null
      and deleted_at is null
),

merged as (
    select
        workspace,
        author_person_id as github_person_id,
        cast(null as varchar) as author_github_id,
        date_trunc('week', merged_at) as week_start,
        'merged' as activity,
        cycle_time_h,
        pickup_time_h,
        additions,
        deletions
    from pull_requests
    where author_person_id is not null
      and merged_at is not null
      and deleted_at is null
),

reviewed as (
    select
        r.workspace,
        lower(r.reviewer_login) as github_person_id,
        p.author_person_id as author_github_id,
        date_trunc('week', r.submitted_at) as week_start,
        'review' as activity,
        cast(null as double) as cycle_time_h,
        cast(null as double) as pickup_time_h,
        cast(0 as bigint) as additions,
        cast(0 as bigint) as deletions
    from reviews as r
    inner join pull_requests as p
        on p.workspace = r.workspace
       and p.repo = r.repo
       and p.number = r.pr_number
    where r.reviewer_login is not null
      and r.submitted_at is not null
      and r.state <> 'PENDING'
      and p.deleted_at is null
),

activity_by_login as (
    select * from opened
    union all
    select * from merged
    union all
    select * from reviewed
),

-- Logins → people (merged identities); a review of a PR by the same person is not given.
activity as (
    select
        a.*,
        coalesce(lp.person_id, a.github_person_id) as person_id
    from activity_by_login as a
    left join login_people as lp
        on lp.workspace = a.workspace
       and lp.github_person_id = a.github_person_id
    left join login_people as la
        on la.workspace = a.workspace
       and la.github_person_id = a.author_github_id
    where a.activity <> 'review'
       or coalesce(lp.person_id, a.github_person_id) <> coalesce(la.person_id, a.author_github_id, '')
),

aggregated as (
    select
        workspace,
        week_start,
        person_id,
        cast(sum(case when activity = 'opened' then 1 else 0 end) as bigint) as prs_opened,
        cast(sum(case when activity = 'merged' then 1 else 0 end) as bigint) as prs_merged,
        cast(sum(case when activity = 'review' then 1 else 0 end) as bigint) as reviews_given,
        quantile_cont(cycle_time_h, 0.5) as cycle_time_p50_h,
        quantile_cont(pickup_time_h, 0.5) as pickup_time_p50_h,
        cast(sum(additions) as bigint) as lines_added,
        cast(sum(deletions) as bigint) as lines_deleted
    from activity
    group by workspace, week_start, person_id
),

final_people as (
    select
        a.workspace,
        a.week_start,
        a.person_id,
        pe.teams,
        a.prs_opened,
        a.prs_merged,
        a.reviews_given,
        a.cycle_time_p50_h,
        a.pickup_time_p50_h,
        a.lines_added,
        a.lines_deleted
    from aggregated as a
    left join people as pe
        on pe.workspace = a.workspace
       and pe.person_id = a.person_id
    where not coalesce(pe.is_bot, false)
),

-- One row per team of the person (a null team when in none).
by_team as (
    select
        f.*,
        unnest(
            case
                when f.teams is null then make_array(cast(null as varchar))
                else string_to_array(f.teams, ',')
            end
        ) as team
    from final_people as f
),

final as (
    select
        workspace,
        week_start,
        person_id,
        team,
        prs_opened,
        prs_merged,
        reviews_given,
        cycle_time_p50_h,
        pickup_time_p50_h,
        lines_added,
        lines_deleted
    from by_team
)

select * from final

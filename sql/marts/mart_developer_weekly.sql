-- One row per (ISO week, person) with activity: PRs opened and merged, reviews given (to
-- other people's PRs), median cycle and pickup time and lines changed of the PRs merged that
-- week. Bots and deleted PRs are left out.
with pull_requests as (
    select * from fct_pull_requests
),

reviews as (
    select * from stg_github__pull_request_reviews
),

people as (
    select * from dim_people
),

opened as (
    select
        workspace,
        author_person_id as person_id,
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
        author_person_id as person_id,
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
        lower(r.reviewer_login) as person_id,
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
      and lower(r.reviewer_login) <> coalesce(p.author_person_id, '')
),

activity as (
    select * from opened
    union all
    select * from merged
    union all
    select * from reviewed
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

final as (
    select
        a.workspace,
        a.week_start,
        a.person_id,
        pe.team,
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
)

select * from final

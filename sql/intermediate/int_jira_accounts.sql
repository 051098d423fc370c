-- One row per Jira account (workspace, account_id) seen as an issue's assignee or reporter, a
-- changelog author, or the old/new value of an assignee change. display_name and email (trimmed,
-- lower-cased) come from the most recently updated issue assigned to the account that names
-- them. seen_items counts the distinct issues the account appears on.
with issues as (
    select * from stg_jira__issues
),

changelog as (
    select * from stg_jira__changelog_items
),

sightings as (
    select workspace, assignee_account_id as account_id, issue_id, coalesce(updated_at, created_at) as seen_at
    from issues
    where assignee_account_id is not null
    union all
    select workspace, reporter_account_id as account_id, issue_id, created_at as seen_at
    from issues
    where reporter_account_id is not null
    union all
    select workspace, author_account_id as account_id, issue_id, created_at as seen_at
    from changelog
    where author_account_id is not null
    union all
    select workspace, from_value as account_id, issue_id, created_at as seen_at
    from changelog
    where field_key = 'assignee'
      and from_value is not null
    union all
    select workspace, to_value as account_id, issue_id, created_at as seen_at
    from changelog
    where field_key = 'assignee'
      and to_value is not null
),

cleaned as (
    select workspace, trim(account_id) as account_id, issue_id, seen_at
    from sightings
    where trim(account_id) <> ''
),

activity as (
    select
        workspace,
        account_id,
        count(distinct issue_id) as seen_items,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from cleaned
    group by workspace, account_id
),

profiles as (
    select
        workspace,
        trim(assignee_account_id) as account_id,
        nullif(trim(assignee_name), '') as display_name,
        nullif(lower(trim(assignee_email)), '') as email,
        row_number() over (
            partition by workspace, trim(assignee_account_id)
            order by updated_at desc nulls last, issue_id
        ) as profile_rank
    from issues
    where assignee_account_id is not null
      and (nullif(trim(assignee_name), '') is not null or nullif(trim(assignee_email), '') is not null)
),

final as (
    select
        a.workspace,
        a.account_id,
        p.display_name,
        p.email,
        a.seen_items,
        a.first_seen_at,
        a.last_seen_at
    from activity as a
    left join profiles as p
        on p.workspace = a.workspace
       and p.account_id = a.account_id
       and p.profile_rank = 1
)

select * from final

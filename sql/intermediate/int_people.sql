-- One row per (workspace, GitHub person): every GitHub login seen as a PR author, reviewer or
-- commit author, with person_id = lower(login). Merging with Jira accounts and aliases happens
-- in int_identities / dim_people. A person is a bot when GitHub says so (type Bot) or the
-- login looks like one. seen_items counts the distinct PRs and default-branch commits seen.
with pull_requests as (
    select * from stg_github__pull_requests
),

reviews as (
    select * from stg_github__pull_request_reviews
),

pr_commits as (
    select * from stg_github__pull_request_commits
),

commits as (
    select * from stg_github__commits
),

observations as (
    select
        workspace,
        author_login as login,
        author_type as login_type,
        cast(null as varchar) as author_name,
        cast(null as varchar) as author_email,
        created_at as seen_at,
        repo || '#' || cast(number as varchar) as item_key
    from pull_requests
    where author_login is not null
    union all
    select
        workspace,
        reviewer_login as login,
        reviewer_type as login_type,
        cast(null as varchar) as author_name,
        cast(null as varchar) as author_email,
        submitted_at as seen_at,
        repo || '#' || cast(pr_number as varchar) as item_key
    from reviews
    where reviewer_login is not null
    union all
    select
        workspace,
        author_login as login,
        cast(null as varchar) as login_type,
        author_name,
        author_email,
        authored_at as seen_at,
        repo || '#' || cast(pr_number as varchar) as item_key
    from pr_commits
    where author_login is not null
    union all
    select
        workspace,
        author_login as login,
        cast(null as varchar) as login_type,
        author_name,
        author_email,
        authored_at as seen_at,
        repo || '@' || sha as item_key
    from commits
    where author_login is not null
),

identified as (
    select
        *,
        lower(login) as person_id
    from observations
    where login <> ''
),

named as (
    select
        *,
        row_number() over (
            partition by workspace, person_id
            order by
                case when author_name is null or author_name = '' then 1 else 0 end,
                seen_at desc,
                author_name
        ) as name_rank
    from identified
),

aggregated as (
    -- One pass (this model is read by several others: one aggregate keeps their plans small).
    -- Lists: the values joined with ',', split, de-duplicated, sorted and joined again.
    select
        workspace,
        person_id,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(distinct item_key) as seen_items,
        max(
            case
                when login_type = 'Bot' then 1
                when regexp_like(person_id, '(\[bot\]$|-bot$|^bot-|^(dependabot|renovate|github-actions|copilot)$)') then 1
                else 0
            end
        ) = 1 as is_bot,
        array_to_string(array_sort(array_distinct(string_to_array(string_agg(login, ','), ','))), ',') as github_logins,
        array_to_string(
            array_sort(array_distinct(string_to_array(
                string_agg(case when author_email <> '' then author_email end, ','), ','
            ))),
            ','
        ) as emails,
        max(case when name_rank = 1 then author_name end) as latest_author_name
    from named
    group by workspace, person_id
),

final as (
    select
        workspace,
        person_id,
        coalesce(latest_author_name, person_id) as display_name,
        emails,
        github_logins,
        is_bot,
        seen_items,
        first_seen_at,
        last_seen_at
    from aggregated
)

select * from final

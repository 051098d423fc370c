-- One row per (workspace, person): every GitHub login seen as a PR author, reviewer or commit
-- author. person_id = lower(login) for now; merging identities across Jira comes later.
-- A person is a bot when GitHub says so (type Bot) or the login looks like one.
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
        created_at as seen_at
    from pull_requests
    where author_login is not null
    union all
    select
        workspace,
        reviewer_login as login,
        reviewer_type as login_type,
        cast(null as varchar) as author_name,
        cast(null as varchar) as author_email,
        submitted_at as seen_at
    from reviews
    where reviewer_login is not null
    union all
    select
        workspace,
        author_login as login,
        cast(null as varchar) as login_type,
        author_name,
        author_email,
        authored_at as seen_at
    from pr_commits
    where author_login is not null
    union all
    select
        workspace,
        author_login as login,
        cast(null as varchar) as login_type,
        author_name,
        author_email,
        authored_at as seen_at
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

flags as (
    select
        workspace,
        person_id,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        max(
            case
                when login_type = 'Bot' then 1
                when regexp_matches(person_id, '(\[bot\]$|-bot$|^bot-|^(dependabot|renovate|github-actions|copilot)$)') then 1
                else 0
            end
        ) = 1 as is_bot
    from identified
    group by workspace, person_id
),

distinct_logins as (
    select distinct workspace, person_id, login
    from identified
),

login_lists as (
    select
        workspace,
        person_id,
        string_agg(login, ',' order by login) as github_logins
    from distinct_logins
    group by workspace, person_id
),

distinct_emails as (
    select distinct workspace, person_id, author_email
    from identified
    where author_email is not null
      and author_email <> ''
),

email_lists as (
    select
        workspace,
        person_id,
        string_agg(author_email, ',' order by author_email) as emails
    from distinct_emails
    group by workspace, person_id
),

names as (
    select
        workspace,
        person_id,
        author_name,
        row_number() over (
            partition by workspace, person_id
            order by seen_at desc, author_name
        ) as name_rank
    from identified
    where author_name is not null
      and author_name <> ''
),

final as (
    select
        f.workspace,
        f.person_id,
        coalesce(n.author_name, f.person_id) as display_name,
        e.emails,
        l.github_logins,
        f.is_bot,
        f.first_seen_at,
        f.last_seen_at
    from flags as f
    left join login_lists as l
        on l.workspace = f.workspace
       and l.person_id = f.person_id
    left join email_lists as e
        on e.workspace = f.workspace
       and e.person_id = f.person_id
    left join names as n
        on n.workspace = f.workspace
       and n.person_id = f.person_id
       and n.name_rank = 1
)

select * from final

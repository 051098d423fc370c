-- One row per person (workspace, person_id). emails, github_logins and jira_account_ids are
-- comma-separated, sorted, de-duplicated strings (null when none are known).
with people as (
    select * from int_people
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

final as (
    select
        p.workspace,
        p.person_id,
        p.display_name,
        p.emails,
        p.github_logins,
        cast(null as varchar) as jira_account_ids,
        pt.team,
        p.is_bot,
        p.first_seen_at,
        p.last_seen_at
    from people as p
    left join person_teams as pt
        on pt.person_id = p.person_id
)

select * from final

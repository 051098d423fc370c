-- One row per identity (workspace, source, kind, value): every GitHub person of int_people
-- (source 'github', kind 'github_login', value = its person_id = lower(login)) and every Jira
-- account of int_jira_accounts (source 'jira', kind 'jira_account'), with the person it belongs
-- to after merging (person_workspace, person_id). Merge rules, first match wins:
--   1. alias: flowlake_identity_aliases (person, kind, value) puts every identity listed under
--      one `person` (trimmed, case-insensitive) into one person. kind github_login matches a
--      login case-insensitively, email a commit e-mail (GitHub) or the account's e-mail (Jira),
--      jira_account an account id exactly. The `person` label also names the GitHub login
--      equal to it.
--   2. email: a Jira account whose e-mail equals (trimmed, case-insensitive) a commit e-mail of
--      a GitHub person joins that person (the smallest one when several match).
--   3. otherwise every GitHub person and every Jira account is a person of its own.
-- A person's id: the smallest GitHub person_id in it (so GitHub people keep lower(login)),
-- else the alias label, else 'jira:' || account_id (no GitHub login contains ':').
-- matched_by: 'alias', 'email' or null (not merged with anything). teams: the teams of
-- flowlake_teams (kind 'person') whose name is this identity's login, account id or one of its
-- e-mails (case-insensitive). Every other people model reads this one; it reads int_people and
-- int_jira_accounts once each and works with window functions, which keeps their plans small.
with people as (
    select * from int_people
),

accounts as (
    select * from int_jira_accounts
),

alias_rows as (
    select * from flowlake_identity_aliases
),

team_rows as (
    select * from flowlake_teams
),

aliases as (
    select distinct
        lower(trim(person)) as alias_person,
        lower(trim(kind)) as kind,
        case
            when lower(trim(kind)) = 'jira_account' then trim(value)
            else lower(trim(value))
        end as value
    from alias_rows
    where person is not null
      and trim(person) <> ''
      and value is not null
      and trim(value) <> ''
    union all
    select distinct
        lower(trim(person)) as alias_person,
        'github_login' as kind,
        lower(trim(person)) as value
    from alias_rows
    where person is not null
      and trim(person) <> ''
),

teams as (
    select distinct lower(trim(name)) as person_key, team
    from team_rows
    where kind = 'person'
      and name is not null
      and team is not null
),

nodes as (
    select
        workspace,
        'github' as source,
        'github_login' as kind,
        person_id as value,
        display_name,
        emails,
        github_logins,
        seen_items,
        is_bot,
        first_seen_at,
        last_seen_at
    from people
    union all
    select
        workspace,
        'jira' as source,
        'jira_account' as kind,
        account_id as value,
        display_name,
        email as emails,
        cast(null as varchar) as github_logins,
        seen_items,
        false as is_bot,
        first_seen_at,
        last_seen_at
    from accounts
),

-- Every key an identity answers to: its login / account id (first) and its e-mails (the other
-- keys; an e-mail has an '@').
node_keys as (
    select
        k.*,
        case
            when k.key = trim(k.value) then k.kind
            when strpos(k.key, '@') > 0 then 'email'
            else k.kind
        end as key_kind
    from (
        select
            n.*,
            trim(unnest(string_to_array(n.value || ',' || coalesce(n.emails, ''), ','))) as key
        from nodes as n
    ) as k
    where k.key <> ''
),

keyed as (
    select
        k.*,
        a.alias_person as key_alias,
        t.team as key_team
    from node_keys as k
    left join aliases as a
        on a.kind = k.key_kind
       and a.value = case when k.key_kind = 'jira_account' then k.key else lower(k.key) end
    left join teams as t
        on t.person_key = lower(k.key)
),

node_aliased as (
    select
        *,
        min(key_alias) over (partition by workspace, source, value) as alias_person
    from keyed
),

github_grouped as (
    select
        *,
        case
            when source <> 'github' then cast(null as varchar)
            when alias_person is not null then 'alias:' || alias_person
            else 'github:' || workspace || '/' || value
        end as github_group_key
    from node_aliased
),

email_matched as (
    select
        *,
        case
            when key_kind = 'email'
                then min(github_group_key) over (partition by key_kind, key)
        end as email_group_key
    from github_grouped
),

node_rows as (
    select
        workspace,
        source,
        kind,
        value,
        max(display_name) as display_name,
        max(emails) as emails,
        max(github_logins) as github_logins,
        max(seen_items) as seen_items,
        bool_or(is_bot) as is_bot,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        min(alias_person) as alias_person,
        min(github_group_key) as github_group_key,
        min(email_group_key) as email_group_key,
        array_to_string(array_sort(array_distinct(string_to_array(string_agg(key_team, ','), ','))), ',') as teams
    from email_matched
    group by workspace, source, kind, value
),

grouped_nodes as (
    select
        *,
        case
            when source = 'github' then github_group_key
            when alias_person is not null then 'alias:' || alias_person
            when email_group_key is not null then email_group_key
            else 'jira:' || workspace || '/' || value
        end as group_key,
        case
            when alias_person is not null then 'alias'
            when source = 'jira' and email_group_key is not null then 'email'
        end as node_matched_by
    from node_rows
),

grouped as (
    select
        *,
        first_value(
            case
                when source = 'github' then value
                when alias_person is not null then alias_person
                else 'jira:' || value
            end
        ) over (
            partition by group_key
            order by case when source = 'github' then 0 else 1 end, workspace, value
        ) as person_id,
        first_value(workspace) over (
            partition by group_key
            order by case when source = 'github' then 0 else 1 end, workspace, value
        ) as person_workspace,
        count(*) over (partition by group_key) as group_identities,
        sum(case when source = 'github' then 1 else 0 end) over (partition by group_key) as group_github,
        sum(case when source = 'jira' then 1 else 0 end) over (partition by group_key) as group_jira
    from grouped_nodes
),

final as (
    select
        workspace,
        source,
        kind,
        value,
        display_name,
        emails,
        github_logins,
        seen_items,
        is_bot,
        first_seen_at,
        last_seen_at,
        teams,
        person_workspace,
        person_id,
        case
            when node_matched_by is not null then node_matched_by
            when group_identities > 1 then 'email'
        end as matched_by,
        cast(group_github as bigint) as person_github_identities,
        cast(group_jira as bigint) as person_jira_identities
    from grouped
)

select * from final

-- Identities that could not be merged, for a manager to add aliases (docs/metrics.md, "People"):
--   source 'jira'    a Jira account that joined no GitHub person and no alias (it is a person
--                    of its own);
--   source 'github'  a GitHub person (not a bot) that no Jira account joined, listed only when
--                    the lake has Jira accounts at all.
-- suggestion: for a Jira account, the GitHub person (person_id, not a bot) with the same display
-- name (trimmed, case-insensitive), else whose login equals the local part of the account's
-- e-mail; for a GitHub person, the unmatched Jira account with the same display name (the
-- smallest when several). suggested_alias: the alias file line (person,kind,value) that would
-- merge them.
with identities as (
    select * from int_identities
),

flagged as (
    select
        *,
        case
            when source = 'jira' then person_github_identities = 0 and matched_by is null
            else person_jira_identities = 0 and not is_bot
        end as is_unmatched,
        lower(trim(display_name)) as name_key,
        case when source = 'github' then value else split_part(emails, '@', 1) end as login_key
    from identities
),

suggested as (
    select
        *,
        sum(case when source = 'jira' then 1 else 0 end) over () as jira_accounts,
        min(case when source = 'github' and not is_bot then person_id end)
            over (partition by name_key) as github_by_name,
        min(case when source = 'jira' and is_unmatched then value end)
            over (partition by name_key) as jira_by_name,
        min(case when source = 'github' and not is_bot then person_id end)
            over (partition by login_key) as github_by_login
    from flagged
),

final as (
    select
        workspace,
        source,
        kind,
        value,
        display_name,
        emails,
        seen_items,
        person_id,
        case
            when source = 'jira' then coalesce(
                case when name_key is not null then github_by_name end,
                case when login_key is not null then github_by_login end
            )
            when name_key is not null then jira_by_name
        end as suggestion
    from suggested
    where is_unmatched
      and (source = 'jira' or jira_accounts > 0)
)

select
    workspace,
    source,
    kind,
    value,
    display_name,
    emails,
    seen_items,
    person_id,
    suggestion,
    case
        when suggestion is null then cast(null as varchar)
        when source = 'jira' then suggestion || ',jira_account,' || value
        else value || ',jira_account,' || suggestion
    end as suggested_alias
from final

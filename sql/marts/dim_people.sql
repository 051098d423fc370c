-- One row per person (workspace, person_id) after merging GitHub people and Jira accounts
-- (rules in int_identities and docs/metrics.md, "People"). emails, github_logins,
-- jira_account_ids and teams are comma-separated, sorted, de-duplicated strings (null when
-- none are known). team: the person's team (the first by name when in several; `teams` lists
-- them all). display_name: the GitHub person's (latest commit author name), else the Jira
-- account's, else the person_id.
with identities as (
    select * from int_identities
),

aggregated as (
    select
        person_workspace as workspace,
        person_id,
        max(case when source = 'github' and workspace = person_workspace and value = person_id then display_name end) as github_name,
        min(case when source = 'jira' then display_name end) as jira_name,
        array_to_string(array_sort(array_distinct(string_to_array(string_agg(emails, ','), ','))), ',') as emails,
        array_to_string(array_sort(array_distinct(string_to_array(string_agg(github_logins, ','), ','))), ',') as github_logins,
        array_to_string(array_sort(array_distinct(string_to_array(string_agg(case when source = 'jira' then value end, ','), ','))), ',') as jira_account_ids,
        array_to_string(array_sort(array_distinct(string_to_array(string_agg(teams, ','), ','))), ',') as teams,
        coalesce(bool_or(is_bot), false) as is_bot,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from identities
    group by person_workspace, person_id
),

final as (
    select
        workspace,
        person_id,
        coalesce(github_name, jira_name, person_id) as display_name,
        emails,
        github_logins,
        jira_account_ids,
        split_part(teams, ',', 1) as team,
        teams,
        is_bot,
        first_seen_at,
        last_seen_at
    from aggregated
)

select * from final

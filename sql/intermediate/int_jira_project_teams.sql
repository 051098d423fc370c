-- One row per Jira project key (upper case) named in flowlake_teams (kind 'jira_project'), with
-- its team; with several rows for one key, the alphabetically first team wins. Every Jira mart
-- reads its `team` from here.
with teams as (
    select * from flowlake_teams
),

final as (
    select
        upper(name) as project,
        min(team) as team
    from teams
    where kind = 'jira_project'
    group by upper(name)
)

select * from final

-- The default branch of each repo, inferred as the base branch most merged pull requests
-- target (the raw zone has no repository table yet). Ties go to the alphabetically first name.
with pull_requests as (
    select * from stg_github__pull_requests
),

merged_per_branch as (
    select
        workspace,
        repo,
        base_ref,
        count(*) as merged_prs
    from pull_requests
    where merged_at is not null
      and base_ref is not null
      and deleted_at is null
    group by workspace, repo, base_ref
),

ranked as (
    select
        *,
        row_number() over (
            partition by workspace, repo
            order by merged_prs desc, base_ref
        ) as branch_rank
    from merged_per_branch
),

final as (
    select
        workspace,
        repo,
        base_ref as default_branch
    from ranked
    where branch_rank = 1
)

select * from final

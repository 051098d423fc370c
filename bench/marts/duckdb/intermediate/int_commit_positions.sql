-- Position of every default-branch commit in its repo's linear history (ordered by
-- committed_at). Commits committed in the same second share a position (dense_rank): a
-- rebase-merge writes several commits at once and a deployment of one ships them all.
with commits as (
    select * from stg_github__commits
),

final as (
    select
        workspace,
        repo,
        sha,
        committed_at,
        dense_rank() over (
            partition by workspace, repo
            order by committed_at
        ) as history_position
    from commits
    where committed_at is not null
)

select * from final

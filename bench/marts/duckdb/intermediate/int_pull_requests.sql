-- Pull requests with their commit and review milestones, author identity, hotfix flag and the
-- position of their merge commit in default-branch history.
with pull_requests as (
    select * from stg_github__pull_requests
),

pr_commits as (
    select * from stg_github__pull_request_commits
),

reviews as (
    select * from stg_github__pull_request_reviews
),

people as (
    select * from int_people
),

default_branches as (
    select * from int_repo_default_branches
),

commit_positions as (
    select * from int_commit_positions
),

config as (
    select * from flowlake_config
),

commit_stats as (
    select
        workspace,
        repo,
        pr_number,
        min(authored_at) as first_commit_at,
        count(*) as commits
    from pr_commits
    group by workspace, repo, pr_number
),

-- A review counts when a human other than the author submitted it (PENDING is a draft).
counted_reviews as (
    select
        r.workspace,
        r.repo,
        r.pr_number,
        r.state,
        r.submitted_at
    from reviews as r
    inner join pull_requests as p
        on p.workspace = r.workspace
       and p.repo = r.repo
       and p.number = r.pr_number
    left join people as reviewer
        on reviewer.workspace = r.workspace
       and reviewer.person_id = lower(r.reviewer_login)
    where r.state <> 'PENDING'
      and r.submitted_at is not null
      and not coalesce(reviewer.is_bot, false)
      and (
            p.author_login is null
            or r.reviewer_login is null
            or lower(r.reviewer_login) <> lower(p.author_login)
        )
),

review_stats as (
    select
        workspace,
        repo,
        pr_number,
        min(submitted_at) as first_review_at,
        min(case when state = 'APPROVED' then submitted_at end) as approved_at,
        count(*) as reviews
    from counted_reviews
    group by workspace, repo, pr_number
),

final as (
    select
        p.workspace,
        p.workspace || '/' || p.repo || '#' || cast(p.number as varchar) as pr_key,
        p.repo,
        p.number,
        p.title,
        p.state,
        p.is_draft,
        p.labels,
        p.base_ref,
        coalesce(p.base_ref = b.default_branch, b.default_branch is null) as targets_default_branch,
        p.author_login,
        lower(p.author_login) as author_person_id,
        coalesce(author.is_bot, p.author_type = 'Bot', false) as is_bot_author,
        p.created_at,
        c.first_commit_at,
        rs.first_review_at,
        rs.approved_at,
        p.merged_at,
        p.closed_at,
        p.merge_commit_sha,
        mp.history_position as merge_position,
        p.additions,
        p.deletions,
        p.changed_files,
        coalesce(c.commits, 0) as commits,
        coalesce(rs.reviews, 0) as reviews,
        (
            regexp_matches(p.labels, config.hotfix_regex)
            or regexp_matches(coalesce(p.title, ''), config.hotfix_regex)
        ) as is_hotfix,
        p.deleted_at
    from pull_requests as p
    cross join config
    left join commit_stats as c
        on c.workspace = p.workspace
       and c.repo = p.repo
       and c.pr_number = p.number
    left join review_stats as rs
        on rs.workspace = p.workspace
       and rs.repo = p.repo
       and rs.pr_number = p.number
    left join people as author
        on author.workspace = p.workspace
       and author.person_id = lower(p.author_login)
    left join default_branches as b
        on b.workspace = p.workspace
       and b.repo = p.repo
    left join commit_positions as mp
        on mp.workspace = p.workspace
       and mp.repo = p.repo
       and mp.sha = p.merge_commit_sha
)

select * from final

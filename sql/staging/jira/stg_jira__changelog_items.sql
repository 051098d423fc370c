-- One row per changed field of a Jira changelog entry, latest version. `issue_key` is the key
-- when the entry was read (an old key for entries written before a move): join on issue_id.
-- `changelog_seq` orders an issue's items: by time, then the numeric changelog id, then the
-- item's position in its entry.
with source as (
    select * from raw_jira_changelog_items
),

versioned as (
    select
        *,
        row_number() over (
            partition by workspace, issue_id, changelog_id, item_index
            order by _ingested_at desc, _run_id desc
        ) as version_rank
    from source
),

latest as (
    select * from versioned where version_rank = 1
),

final as (
    select
        workspace,
        issue_id,
        issue_key,
        changelog_id,
        item_index,
        created_at,
        author_account_id,
        field,
        lower(field) as field_key,
        field_id,
        field_type,
        from_value,
        from_string,
        to_value,
        to_string,
        row_number() over (
            partition by workspace, issue_id
            order by created_at, try_cast(changelog_id as bigint), changelog_id, item_index
        ) as changelog_seq,
        _ingested_at,
        _run_id
    from latest
)

select * from final

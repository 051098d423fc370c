-- When each Jira issue was in each sprint: one row per stretch of membership
-- (`removed_at` null while it still is). Read from the `Sprint` changelog items, whose
-- from/to values are comma-separated sprint ids: a sprint in `to` but not `from` was added,
-- one in `from` but not `to` removed. An issue whose first event for a sprint is a removal,
-- or that lists a sprint (`sprint_ids`) with no changelog event, was in it since creation.
with issues as (
    select * from stg_jira__issues
),

items as (
    select * from stg_jira__changelog_items
    where field_key = 'sprint'
),

raw_ids as (
    select
        workspace,
        issue_id,
        changelog_seq,
        created_at,
        'to' as side,
        unnest(string_to_array(coalesce(to_value, ''), ',')) as sprint_text
    from items
    union all
    select
        workspace,
        issue_id,
        changelog_seq,
        created_at,
        'from' as side,
        unnest(string_to_array(coalesce(from_value, ''), ',')) as sprint_text
    from items
),

ids as (
    select
        workspace,
        issue_id,
        changelog_seq,
        created_at,
        side,
        try_cast(trim(sprint_text) as bigint) as sprint_id
    from raw_ids
),

per_item as (
    select
        workspace,
        issue_id,
        changelog_seq,
        created_at,
        sprint_id,
        bool_or(side = 'to') as in_to,
        bool_or(side = 'from') as in_from
    from ids
    where sprint_id is not null
    group by workspace, issue_id, changelog_seq, created_at, sprint_id
),

logged_events as (
    select
        workspace,
        issue_id,
        sprint_id,
        changelog_seq as event_seq,
        created_at as event_at,
        case when in_to then 'add' else 'remove' end as kind
    from per_item
    where in_to <> in_from
),

first_events as (
    select
        *,
        row_number() over (
            partition by workspace, issue_id, sprint_id
            order by event_seq
        ) as event_rank
    from logged_events
),

listed_raw as (
    select
        workspace,
        issue_id,
        unnest(string_to_array(coalesce(sprint_ids, cast(sprint_id as varchar)), ',')) as sprint_text
    from issues
    where coalesce(sprint_ids, cast(sprint_id as varchar)) is not null
),

listed as (
    select distinct
        workspace,
        issue_id,
        try_cast(trim(sprint_text) as bigint) as sprint_id
    from listed_raw
),

implied_from_removal as (
    select
        e.workspace,
        e.issue_id,
        e.sprint_id
    from first_events as e
    where e.event_rank = 1
      and e.kind = 'remove'
),

implied_from_listing as (
    select
        l.workspace,
        l.issue_id,
        l.sprint_id
    from listed as l
    left join (select distinct workspace, issue_id, sprint_id from logged_events) as e
        on e.workspace = l.workspace
       and e.issue_id = l.issue_id
       and e.sprint_id = l.sprint_id
    where l.sprint_id is not null
      and e.issue_id is null
),

implied_events as (
    select
        x.workspace,
        x.issue_id,
        x.sprint_id,
        cast(0 as bigint) as event_seq,
        i.created_at as event_at,
        'add' as kind
    from (
        select * from implied_from_removal
        union all
        select * from implied_from_listing
    ) as x
    inner join issues as i
        on i.workspace = x.workspace
       and i.issue_id = x.issue_id
    where i.created_at is not null
),

events as (
    select * from logged_events
    union all
    select * from implied_events
),

-- Repeated events of one kind (an add when already in) say nothing new: keep the first.
changes as (
    select *
    from (
        select
            *,
            lag(kind) over (
                partition by workspace, issue_id, sprint_id
                order by event_seq
            ) as previous_kind
        from events
    ) as e
    where previous_kind is null or previous_kind <> kind
),

sequenced as (
    select
        *,
        lead(event_at) over (
            partition by workspace, issue_id, sprint_id
            order by event_seq
        ) as next_event_at
    from changes
),

final as (
    select
        workspace,
        issue_id,
        sprint_id,
        event_at as added_at,
        next_event_at as removed_at
    from sequenced
    where kind = 'add'
)

select * from final

-- flowlake people unmatched: identities not merged into a person yet, with alias suggestions.
select
    workspace,
    source,
    kind,
    value,
    display_name,
    seen_items,
    suggestion,
    suggested_alias
from mart_unmatched_identities
order by workspace, source, seen_items desc, value

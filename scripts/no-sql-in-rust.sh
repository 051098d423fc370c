#!/usr/bin/env bash
# SQL lives in sql/, not in Rust strings (STYLE.md). Flags a string literal that starts a SQL
# statement in library or binary code of crates/*/src, outside `#[cfg(test)]` modules (a
# file's test module is at its end by convention, so only the lines before it are read).
# An entry of scripts/sql-in-rust.allow (`path: reason`) exempts a file; a line ending in a
# `// sql-ok: reason` comment is exempt (e.g. an example command shown to a person).
set -euo pipefail
cd "$(dirname "$0")/.."
allow="scripts/sql-in-rust.allow"
status=0
while IFS= read -r file; do
    if [[ -f "$allow" ]] && grep -q "^${file}:" "$allow"; then
        continue
    fi
    hits="$(awk '/^#\[cfg\(test\)\]/ { exit } { print FILENAME ":" FNR ": " $0 }' "$file" \
        | grep -vE '^[^:]+:[0-9]+: *//' \
        | grep -v 'sql-ok:' \
        | grep -iE '"\s*(select\s.*(\sfrom\s|\sas\s|,)|with\s+\w+\s+as\s*\(|insert\s+into|create\s+(table|view|external)|copy\s*\(|drop\s+table|delete\s+from|update\s+\w+\s+set\s)' || true)"
    if [[ -n "$hits" ]]; then
        echo "$hits"
        status=1
    fi
done < <(find crates -path '*/src/*' -name '*.rs' -not -path '*/tests/*' | sort)
if [[ $status -ne 0 ]]; then
    echo "SQL in Rust strings: move it to sql/ (a model, or sql/queries/ for a read-only query)," \
         "or add the file to $allow with the reason" >&2
fi
exit $status

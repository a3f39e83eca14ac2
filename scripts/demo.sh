#!/usr/bin/env bash
# One-command demo: build barge, make a small Chinook-like SQLite database, migrate it into
# PostgreSQL (schema `demo` of database `barge_demo`) and show what arrived.
#
# usage: scripts/demo.sh
#   BARGE_BIN=/path/to/barge scripts/demo.sh   uses that binary instead of building one.
# Writes only demo/out/ (gitignored) in the repository, plus cargo's target/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres
PG_URL=postgres://postgres@127.0.0.1:5432/barge_demo # must match demo/migration.toml
SQLITE_DB=demo/out/chinook-like.sqlite
BARGE="${BARGE_BIN:-${CARGO_TARGET_DIR:-target}/release/barge}"

step() { printf '\n==> %s\n' "$*"; }
psql_demo() { psql "${PG_URL}" -X -q -v ON_ERROR_STOP=1 -P pager=off "$@"; }
# The quoted name of the table in schema demo whose name, without case and underscores,
# is $1 (barge may spell InvoiceLine as invoice_line, or keep it); empty when there is none.
pg_table() {
    psql_demo -A -t -c "select format('%I.%I', n.nspname, c.relname)
                          from pg_class c join pg_namespace n on n.oid = c.relnamespace
                         where n.nspname = 'demo' and c.relkind in ('r', 'p')
                           and replace(lower(c.relname), '_', '') = '$1'"
}

step "PostgreSQL"
scripts/services.sh postgres

if [[ -z ${BARGE_BIN:-} ]]; then
    step "building barge (release)"
    cargo build --release -p barge
fi

step "creating ${SQLITE_DB} from demo/demo.sql"
mkdir -p demo/out
# Recreate from scratch each time so the demo always starts from the same source.
rm -f "${SQLITE_DB}" "${SQLITE_DB}-journal" "${SQLITE_DB}-wal" "${SQLITE_DB}-shm"
sqlite3 -bail "${SQLITE_DB}" <demo/demo.sql

if [[ "$(psql "${PG_ADMIN_URL}" -X -A -t -c "select count(*) from pg_database where datname = 'barge_demo'")" == 0 ]]; then
    step "creating database barge_demo"
    psql "${PG_ADMIN_URL}" -X -q -c 'create database barge_demo'
fi

step "${BARGE} migrate demo/migration.toml"
"${BARGE}" migrate demo/migration.toml

# Source and target tables are matched by name without case and underscores (see pg_table).
step "row counts: SQLite source vs PostgreSQL"
pg_counts="$(psql_demo -A -t -F $'\t' -c "
    select replace(lower(c.relname), '_', ''), c.relname,
           (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %I.%I',
                  n.nspname, c.relname), false, true, '')))[1]::text
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'demo' and c.relkind in ('r', 'p')")"
mismatches=0
printf '%-16s %8s   %-18s %8s\n' 'sqlite table' rows 'postgres table' rows
while IFS= read -r table; do
    src_rows="$(sqlite3 "${SQLITE_DB}" "select count(*) from \"${table}\"")"
    key="$(tr '[:upper:]' '[:lower:]' <<<"${table//_/}")"
    read -r pg_table pg_rows < <(awk -F '\t' -v k="${key}" '$1 == k { print $2, $3 }' <<<"${pg_counts}") || true
    mark=ok
    if [[ "${pg_rows:-}" != "${src_rows}" ]]; then
        mark=MISMATCH
        mismatches=$((mismatches + 1))
    fi
    printf '%-16s %8s   %-18s %8s   %s\n' "${table}" "${src_rows}" "${pg_table:-(missing)}" "${pg_rows:--}" "${mark}"
    pg_table='' pg_rows=''
done < <(sqlite3 "${SQLITE_DB}" "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")

step "keys and constraints in schema demo"
psql_demo -c "
    select conrelid::regclass as \"table\", conname as name,
           case contype when 'p' then 'primary key' when 'f' then 'foreign key'
                        when 'u' then 'unique' when 'c' then 'check' else contype::text end as kind,
           pg_get_constraintdef(oid) as definition
      from pg_constraint
     where connamespace = 'demo'::regnamespace
     order by 1::text, 3, 2"

step "indexes in schema demo"
psql_demo -c "select tablename as \"table\", indexdef as definition
                from pg_indexes where schemaname = 'demo' order by 1, 2"

step "columns of the track table"
track="$(pg_table track)"
if [[ -n ${track} ]]; then
    psql_demo -c "
        select a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
               case when a.attnotnull then 'not null' else '' end as null,
               pg_get_expr(d.adbin, d.adrelid) as default
          from pg_attribute a
          left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where a.attrelid = '${track}'::regclass and a.attnum > 0 and not a.attisdropped
         order by a.attnum"
fi

step "a few artists (non-ASCII text must survive)"
artist="$(pg_table artist)"
if [[ -n ${artist} ]]; then
    psql_demo -c "select * from ${artist} order by 1 limit 10"
fi

if ((mismatches)); then
    printf '\ndemo: %d table(s) differ between SQLite and PostgreSQL (see above)\n' "${mismatches}" >&2
    exit 1
fi
printf '\ndemo: done. Explore with: psql %s  (set search_path to demo)\n' "${PG_URL}"

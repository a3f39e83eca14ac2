#!/usr/bin/env bash
# Benchmark: an employees-shaped MariaDB database (6 tables, 3,919,015 rows, composite primary
# keys, ENUM, a unique key, foreign keys) into PostgreSQL, three ways, in one run:
#   barge     target/release/barge migrate (schema bench_barge)
#   pgloader  the Debian package, MySQL defaults (schema bench_pgloader)
#   pipe      per table `mariadb --quick -B | psql COPY` then its primary key, two tables at a
#             time, then the foreign keys (schema bench_pipe): the floor to compare against
# Each must end with the exact row count in every table, the 6 primary keys, the unique key
# on departments(dept_name), the indexes on dept_emp/dept_manager(dept_no) and the 6 foreign
# keys. See bench/README.md for what is measured and how to read it.
#
# usage: bench/employees.sh [--runs N] [--skip-barge] [--skip-pgloader] [--skip-pipe]
#                           [--barge PATH] [--keep]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_HOST="${BENCH_PG_HOST:-127.0.0.1}"
PG_PORT="${BENCH_PG_PORT:-5432}"
PG_USER="${BENCH_PG_USER:-postgres}"
PG_DB="${BENCH_PG_DB:-barge_bench}"
PG_URL="postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${PG_DB}"
PG_ADMIN_URL="postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/postgres"
MY_HOST="${BENCH_MY_HOST:-127.0.0.1}"
MY_PORT="${BENCH_MY_PORT:-3306}"
MY_USER="${BENCH_MY_USER:-root}"
MY_DB=bench_employees
MY_URL="mysql://${MY_USER}@${MY_HOST}:${MY_PORT}/${MY_DB}"
DATA="${PWD}/bench/data" # absolute: pgloader resolves relative paths against its --root-dir
LOGS="${DATA}/logs/employees"
SCHEMAS=(bench_barge bench_pgloader bench_pipe)

# ------------------------------------------------------------------ the source, as specs
# Everything the checks expect and everything the pipe builds comes from these lists.

TABLES=(employees departments dept_manager dept_emp titles salaries)
declare -A ROWS=([employees]=300024 [departments]=9 [dept_manager]=24 [dept_emp]=331603
    [titles]=443308 [salaries]=2844047)
TOTAL_ROWS=3919015
declare -A PK=([employees]=emp_no [departments]=dept_no [dept_manager]='emp_no,dept_no'
    [dept_emp]='emp_no,dept_no' [titles]='emp_no,title,from_date' [salaries]='emp_no,from_date')
# "table column": a unique key, and plain indexes (InnoDB's indexes for foreign keys whose
# columns do not lead the primary key).
UNIQUES=("departments dept_name")
INDEXES=("dept_emp dept_no" "dept_manager dept_no")
# "table column referenced_table referenced_column", all ON DELETE CASCADE in the source.
FKS=("dept_manager emp_no employees emp_no" "dept_manager dept_no departments dept_no"
    "dept_emp emp_no employees emp_no" "dept_emp dept_no departments dept_no"
    "titles emp_no employees emp_no" "salaries emp_no employees emp_no")

# The pipe's tables: the columns it selects and COPYs, and the tables it creates for them.
declare -A PIPE_SELECT=([employees]='emp_no,birth_date,first_name,last_name,gender,hire_date'
    [departments]='dept_no,dept_name' [dept_manager]='emp_no,dept_no,from_date,to_date'
    [dept_emp]='emp_no,dept_no,from_date,to_date' [titles]='emp_no,title,from_date,to_date'
    [salaries]='emp_no,salary,from_date,to_date')
declare -A PIPE_COLUMNS=(
    [employees]='emp_no integer NOT NULL, birth_date date NOT NULL,
                 first_name varchar(14) NOT NULL, last_name varchar(16) NOT NULL,
                 gender text NOT NULL CHECK (gender IN ('\''M'\'', '\''F'\'')),
                 hire_date date NOT NULL'
    [departments]='dept_no char(4) NOT NULL, dept_name varchar(40) NOT NULL'
    [dept_manager]='emp_no integer NOT NULL, dept_no char(4) NOT NULL,
                    from_date date NOT NULL, to_date date NOT NULL'
    [dept_emp]='emp_no integer NOT NULL, dept_no char(4) NOT NULL,
                from_date date NOT NULL, to_date date NOT NULL'
    [titles]='emp_no integer NOT NULL, title varchar(50) NOT NULL,
              from_date date NOT NULL, to_date date'
    [salaries]='emp_no integer NOT NULL, salary integer NOT NULL,
                from_date date NOT NULL, to_date date NOT NULL'
)
# `mariadb -B` escapes backslash, tab, newline and NUL the way COPY's text format reads them,
# but prints SQL NULL as the bare word NULL, which COPY would take as text. The only nullable
# column, titles.to_date, is a DATE selected last, so a trailing NULL can only be SQL NULL:
# sed turns it into COPY's \N. The other tables are all NOT NULL and go through unchanged.
declare -A PIPE_SED=([titles]='s/\tNULL$/\t\\N/')
# Biggest first, so the two lanes finish close together.
PIPE_ORDER=(salaries titles dept_emp employees dept_manager departments)

# usage, die, note, now, elapsed, build_barge.
# shellcheck source=bench/lib.sh
source bench/lib.sh

runs=1 do_barge=1 do_pgloader=1 do_pipe=1 keep=0 barge_bin=''
while (($#)); do
    case "$1" in
        --runs)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "\`--runs\` needs a positive number"
            runs="$2"
            shift
            ;;
        --runs=*)
            runs="${1#--runs=}"
            [[ ${runs} =~ ^[1-9][0-9]*$ ]] || die "\`--runs\` needs a positive number"
            ;;
        --skip-barge) do_barge=0 ;;
        --skip-pgloader) do_pgloader=0 ;;
        --skip-pipe) do_pipe=0 ;;
        --barge)
            barge_bin="${2:?--barge needs a path}"
            shift
            ;;
        --barge=*) barge_bin="${1#--barge=}" ;;
        --keep) keep=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option \`$1\` (see --help)" ;;
    esac
    shift
done
((do_barge + do_pgloader + do_pipe)) || die "every tool is skipped: nothing to measure"

psql_bench() { psql "${PG_URL}" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
my_cli() {
    mariadb --protocol=tcp -h "${MY_HOST}" -P "${MY_PORT}" -u "${MY_USER}" \
        --default-character-set=utf8mb4 "$@"
}

# ------------------------------------------------------------------ setup

services=(postgres mariadb)
if ((do_pgloader)); then services+=(pgloader); fi
scripts/services.sh "${services[@]}"

mkdir -p "${LOGS}"
bench/gen_employees.sh "${MY_DB}"
src_bytes="$(my_cli -B -N -e "select sum(data_length + index_length) from information_schema.tables
                               where table_schema = '${MY_DB}'")"

if ((do_barge)); then
    build_barge
    cat >"${DATA}/barge-employees.toml" <<EOF
# generated by bench/employees.sh
schema = "bench_barge"
on_schema_exists = "recreate"

[source]
type = "mariadb"
dsn = "${MY_URL}"

[target]
dsn = "${PG_URL}"
EOF
fi

if ((do_pgloader)); then
    # MySQL defaults (create tables, create indexes, foreign keys, reset sequences, downcase
    # identifiers); pgloader names the target schema after the MySQL database, hence the
    # rename. It logs in with mysql_native_password, which root@127.0.0.1 uses here.
    cat >"${DATA}/pgloader-employees.load" <<EOF
-- generated by bench/employees.sh
LOAD DATABASE
     FROM ${MY_URL}
     INTO ${PG_URL}

 WITH include drop, create tables, create indexes, foreign keys, reset sequences

  SET PostgreSQL PARAMETERS work_mem TO '64MB', maintenance_work_mem TO '512MB'

 ALTER SCHEMA '${MY_DB}' RENAME TO 'bench_pgloader';
EOF
fi

if [[ "$(psql "${PG_ADMIN_URL}" -X -A -t -c "select count(*) from pg_database where datname = '${PG_DB}'")" == 0 ]]; then
    note "creating database ${PG_DB}"
    psql "${PG_ADMIN_URL}" -X -q -c "create database ${PG_DB}"
fi

# pgloader ends a MySQL load with ALTER DATABASE ... SET search_path TO public, <its schema>,
# which would stay on the database after the benchmark: remember the setting to put it back.
search_path_setting() {
    psql_bench -c "select coalesce((select substr(c, length('search_path=') + 1)
                                      from pg_db_role_setting s, unnest(s.setconfig) c
                                     where s.setrole = 0 and s.setdatabase = d.oid
                                       and c like 'search_path=%'), '')
                     from pg_database d where d.datname = current_database()"
}
orig_search_path="$(search_path_setting)"
restore_search_path() {
    [[ "$(search_path_setting)" == "${orig_search_path}" ]] && return 0
    if [[ -z ${orig_search_path} ]]; then
        psql_bench -c "alter database \"${PG_DB}\" reset search_path"
    else
        psql_bench -c "alter database \"${PG_DB}\" set search_path to ${orig_search_path}"
    fi
}

# Every tool starts from the same state: no bench schema at all, and no dirty buffers from
# the previous tool's load left for this one's checkpoints to write.
reset_target() {
    local s
    for s in "${SCHEMAS[@]}"; do
        psql_bench -c "set client_min_messages = warning; drop schema if exists ${s} cascade"
    done
    psql_bench -c 'checkpoint'
}

# ------------------------------------------------------------------ one timed run per tool
# Each sets WALL (seconds), RSS_KB (peak resident set of the tool's processes) and LOG.

max_rss() { cat "$@" | awk '$2 > m { m = $2 } END { print m + 0 }'; }

run_barge() { time_barge barge "$1" migrate "${DATA}/barge-employees.toml"; }

run_pgloader() {
    local t0 t1 rc=0
    LOG="${LOGS}/pgloader-run$1.log"
    t0="$(now)"
    /usr/bin/time -f '%e %M' -o "${LOGS}/pgloader.time" \
        pgloader --root-dir "${DATA}/pgloader" --summary "${LOGS}/pgloader-run$1.summary" \
        "${DATA}/pgloader-employees.load" >"${LOG}" 2>&1 || rc=$?
    t1="$(now)"
    restore_search_path || return 1
    ((rc == 0)) || return 1
    WALL="$(elapsed "${t0}" "${t1}")"
    RSS_KB="$(max_rss "${LOGS}/pgloader.time")"
    pgloader_clean "${LOG}" "${LOGS}/pgloader-run$1.summary"
}

# One lane of the pipe for table $1: mariadb streams the rows, psql COPYs them and then
# builds the table's primary key (and its unique key or index, if any) in the same session.
pipe_table() {
    local t="$1" log="$2" select post=() spec ut uc it ic
    select="SELECT ${PIPE_SELECT[${t}]} FROM \`${t}\`"
    post+=(-c "ALTER TABLE bench_pipe.${t} ADD PRIMARY KEY (${PK[${t}]})")
    for spec in "${UNIQUES[@]}"; do
        read -r ut uc <<<"${spec}"
        if [[ ${ut} == "${t}" ]]; then post+=(-c "ALTER TABLE bench_pipe.${t} ADD UNIQUE (${uc})"); fi
    done
    for spec in "${INDEXES[@]}"; do
        read -r it ic <<<"${spec}"
        if [[ ${it} == "${t}" ]]; then post+=(-c "CREATE INDEX ON bench_pipe.${t} (${ic})"); fi
    done
    if [[ -n ${PIPE_SED[${t}]:-} ]]; then
        /usr/bin/time -f '%e %M' -o "${LOGS}/pipe-${t}-mariadb.time" \
            mariadb --protocol=tcp -h "${MY_HOST}" -P "${MY_PORT}" -u "${MY_USER}" \
            --default-character-set=utf8mb4 --quick -B -N -e "${select}" "${MY_DB}" 2>>"${log}" |
            /usr/bin/time -f '%e %M' -o "${LOGS}/pipe-${t}-sed.time" sed "${PIPE_SED[${t}]}" |
            /usr/bin/time -f '%e %M' -o "${LOGS}/pipe-${t}-psql.time" \
                psql "${PG_URL}" -X -q -v ON_ERROR_STOP=1 \
                -c "COPY bench_pipe.${t} (${PIPE_SELECT[${t}]}) FROM STDIN" "${post[@]}" >>"${log}" 2>&1
    else
        /usr/bin/time -f '%e %M' -o "${LOGS}/pipe-${t}-mariadb.time" \
            mariadb --protocol=tcp -h "${MY_HOST}" -P "${MY_PORT}" -u "${MY_USER}" \
            --default-character-set=utf8mb4 --quick -B -N -e "${select}" "${MY_DB}" 2>>"${log}" |
            /usr/bin/time -f '%e %M' -o "${LOGS}/pipe-${t}-psql.time" \
                psql "${PG_URL}" -X -q -v ON_ERROR_STOP=1 \
                -c "COPY bench_pipe.${t} (${PIPE_SELECT[${t}]}) FROM STDIN" "${post[@]}" >>"${log}" 2>&1
    fi
}

run_pipe() {
    local t0 t1 t spec ddl='' fks=() running=0 rc=0
    local ft fc rt rc_
    LOG="${LOGS}/pipe-run$1.log"
    : >"${LOG}"
    rm -f "${LOGS}"/pipe-*.time
    for t in "${TABLES[@]}"; do ddl+="CREATE TABLE bench_pipe.${t} (${PIPE_COLUMNS[${t}]}); "; done
    for spec in "${FKS[@]}"; do
        read -r ft fc rt rc_ <<<"${spec}"
        fks+=(-c "ALTER TABLE bench_pipe.${ft} ADD FOREIGN KEY (${fc})
                  REFERENCES bench_pipe.${rt} (${rc_}) ON DELETE CASCADE")
    done
    t0="$(now)"
    psql "${PG_URL}" -X -q -v ON_ERROR_STOP=1 -c 'CREATE SCHEMA bench_pipe' -c "${ddl}" \
        >>"${LOG}" 2>&1 || return 1
    # Two lanes: start a table whenever fewer than two are in flight.
    for t in "${PIPE_ORDER[@]}"; do
        if ((running == 2)); then
            wait -n || rc=1
            running=$((running - 1))
        fi
        pipe_table "${t}" "${LOG}" &
        running=$((running + 1))
    done
    while ((running)); do
        wait -n || rc=1
        running=$((running - 1))
    done
    ((rc == 0)) || return 1
    /usr/bin/time -f '%e %M' -o "${LOGS}/pipe-fks-psql.time" \
        psql "${PG_URL}" -X -q -v ON_ERROR_STOP=1 "${fks[@]}" >>"${LOG}" 2>&1 || return 1
    t1="$(now)"
    WALL="$(elapsed "${t0}" "${t1}")"
    # The largest single process of the pipe (mariadb, sed or psql); two lanes run at once.
    RSS_KB="$(max_rss "${LOGS}"/pipe-*.time)"
}

# ------------------------------------------------------------------ checks

# What schema $1 must hold, one fact a line: "rows TABLE N", "pk TABLE COLS",
# "uk TABLE COLS", "ix TABLE COLS", "fk TABLE COLS REFTABLE REFCOLS".
expected_facts() {
    local t spec a b c d
    for t in "${TABLES[@]}"; do
        printf 'rows %s %s\n' "${t}" "${ROWS[${t}]}"
        printf 'pk %s %s\n' "${t}" "${PK[${t}]}"
    done
    for spec in "${UNIQUES[@]}"; do
        read -r a b <<<"${spec}"
        printf 'uk %s %s\n' "${a}" "${b}"
    done
    for spec in "${INDEXES[@]}"; do
        read -r a b <<<"${spec}"
        printf 'ix %s %s\n' "${a}" "${b}"
    done
    for spec in "${FKS[@]}"; do
        read -r a b c d <<<"${spec}"
        printf 'fk %s %s %s %s\n' "${a}" "${b}" "${c}" "${d}"
    done
}

# The same facts as found in PostgreSQL: row counts, primary and foreign keys, and the other
# indexes (a unique constraint and a plain unique index both count as "uk"). Table names are
# matched without case, in case a tool folds or keeps them.
found_facts() {
    psql_bench -c "
        with tabs as (
            select c.oid, lower(c.relname) as name, c.relname, n.nspname
              from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = '$1' and c.relkind in ('r', 'p')
        )
        select 'rows ' || name || ' ' || (xpath('/row/n/text()', query_to_xml(format(
                   'select count(*) as n from %I.%I', nspname, relname), false, true, '')))[1]::text
          from tabs
        union all
        select case k.contype when 'p' then 'pk ' else 'fk ' end || t.name || ' '
               || (select string_agg(lower(a.attname), ',' order by u.ord)
                     from unnest(k.conkey) with ordinality u(attnum, ord)
                     join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum)
               || case when k.contype = 'f' then ' ' || lower(r.relname) || ' '
                       || (select string_agg(lower(a.attname), ',' order by u.ord)
                             from unnest(k.confkey) with ordinality u(attnum, ord)
                             join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum)
                  else '' end
          from tabs t join pg_constraint k on k.conrelid = t.oid
          left join pg_class r on r.oid = k.confrelid
         where k.contype in ('p', 'f')
        union all
        select case when i.indisunique then 'uk ' else 'ix ' end || t.name || ' '
               || coalesce((select string_agg(lower(a.attname), ',' order by u.ord)
                              from unnest(i.indkey::int2[]) with ordinality u(attnum, ord)
                              join pg_attribute a on a.attrelid = i.indrelid and a.attnum = u.attnum),
                           'expression')
          from tabs t join pg_index i on i.indrelid = t.oid
         where not i.indisprimary"
}

# Prints "ROWS ROWS_OK PK FK IDX" for schema $1: the total row count, yes if every table has
# exactly its rows, and how many of the expected primary keys, foreign keys and other
# indexes are there ("6/6" ...). Writes what is missing or extra to $2.
verify() {
    local found want missing extra rows rows_ok
    want="$(expected_facts | sort)"
    found="$(found_facts "$1" | sort)" || found=''
    missing="$(comm -23 <(printf '%s\n' "${want}") <(printf '%s\n' "${found}"))"
    extra="$(comm -13 <(printf '%s\n' "${want}") <(printf '%s\n' "${found}"))"
    {
        echo "== missing in $1 (expected, not found):"
        printf '%s\n' "${missing}"
        echo "== extra in $1 (found, not expected; not an error):"
        printf '%s\n' "${extra}"
    } >"$2"
    rows="$(awk '$1 == "rows" { n += $3 } END { print n + 0 }' <<<"${found}")"
    rows_ok=yes
    if grep -q '^rows ' <<<"${missing}"; then rows_ok=NO; fi
    # "have/want" for facts whose lines start with $1 (a regular expression).
    present() {
        local w m
        w="$(grep -Ec "^($1) " <<<"${want}" || true)"
        m="$(grep -Ec "^($1) " <<<"${missing}" || true)"
        printf '%s/%s' "$((w - m))" "${w}"
    }
    printf '%s %s %s %s %s\n' "${rows}" "${rows_ok}" "$(present pk)" "$(present fk)" "$(present 'uk|ix')"
}

# ------------------------------------------------------------------ the runs

tools=()
if ((do_barge)); then tools+=(barge); fi
if ((do_pgloader)); then tools+=(pgloader); fi
if ((do_pipe)); then tools+=(pipe); fi

results="${LOGS}/results.tsv" # one line per tool and run: tool run wall rss_kb rows rows_ok pk fk idx
: >"${results}"
failed=0
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
note "source ${MY_URL}: ${TOTAL_ROWS} rows in ${#TABLES[@]} tables, InnoDB data and indexes $((src_bytes / 1000000)) MB; target ${PG_URL}; ${runs} run(s)"

# Runs interleave the tools (barge, pgloader, pipe, barge, ...) so that slow drift of the
# machine (other jobs, cache state) spreads over all of them instead of favouring one.
for ((run = 1; run <= runs; run++)); do
    for tool in "${tools[@]}"; do
        reset_target
        note "run ${run}/${runs}: ${tool}"
        WALL='' RSS_KB='' LOG=''
        if ! "run_${tool}" "${run}"; then
            note "${tool} failed in run ${run}; last lines of ${LOG}:"
            tail -n 20 "${LOG}" >&2 || true
            failed=1
            continue
        fi
        check="${LOGS}/${tool}-run${run}.check"
        read -r rows rows_ok pk fk idx < <(verify "bench_${tool}" "${check}") || true
        if [[ ${rows_ok:-NO} != yes || ${pk%/*} != "${pk#*/}" || ${fk%/*} != "${fk#*/}" || ${idx%/*} != "${idx#*/}" ]]; then
            note "${tool}: wrong result in PostgreSQL: ${rows} rows (want ${TOTAL_ROWS}, each table exact: ${rows_ok}), primary keys ${pk}, foreign keys ${fk}, other indexes ${idx}:"
            sed -n '/^== missing/,/^== extra/p' "${check}" | sed '$d' >&2
            failed=1
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${tool}" "${run}" "${WALL}" "${RSS_KB}" \
            "${rows}" "${rows_ok}" "${pk}" "${fk}" "${idx}" >>"${results}"
        note "  ${WALL} s, peak RSS $((RSS_KB / 1024)) MiB, ${rows} rows (exact: ${rows_ok}), pk ${pk}, fk ${fk}, indexes ${idx}"
    done
done

if ((!keep)); then reset_target; fi

# ------------------------------------------------------------------ report

# Best and median wall time per tool; rows/s is computed from the median.
awk -F '\t' -v rows="${TOTAL_ROWS}" -v bytes="${src_bytes}" -v commit="${commit}" -v runs="${runs}" '
    function median(list, n,   a, i, j, t) {
        split(list, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        if (!($1 in n)) order[++tools] = $1
        n[$1]++; walls[$1] = walls[$1] " " $3
        if (!($1 in best) || $3 < best[$1]) best[$1] = $3
        if ($4 > rss[$1]) rss[$1] = $4
        # Report the worst check over all runs.
        if (!($1 in pgrows) || $6 != "yes") { pgrows[$1] = $5; exact[$1] = $6 }
        for (k = 7; k <= 9; k++) { split($k, f, "/"); if (!(($1, k) in got) || f[1] < got[$1, k]) { got[$1, k] = f[1]; chk[$1, k] = $k } }
    }
    END {
        if (!tools) exit
        printf "\nemployees: %d rows in 6 tables, %.0f MB InnoDB data and indexes, commit %s, %d run(s) per tool\n\n", rows, bytes / 1e6, commit, runs
        printf "%-9s %5s %9s %9s %10s %10s %10s %5s %5s %5s %5s\n", "tool", "runs", "best s", "median s", "rows/s", "peak RSS", "rows in PG", "exact", "pk", "fk", "idx"
        for (i = 1; i <= tools; i++) {
            t = order[i]; med[t] = median(walls[t], n[t])
            printf "%-9s %5d %9.2f %9.2f %10.0f %6.0f MiB %10s %5s %5s %5s %5s\n", t, n[t], best[t], med[t], rows / med[t], rss[t] / 1024, pgrows[t], exact[t], chk[t, 7], chk[t, 8], chk[t, 9]
        }
        if ("barge" in med) {
            print ""
            if ("pgloader" in med)
                printf "barge / pgloader: %.2f (median), %.2f (best)  (< 1: barge is faster; issue 3 aims at <= 0.30)\n", med["barge"] / med["pgloader"], best["barge"] / best["pgloader"]
            if ("pipe" in med)
                printf "pipe / barge:     %.2f (median), %.2f (best)  (> 1: barge is faster than the pipes)\n", med["pipe"] / med["barge"], best["pipe"] / best["barge"]
        }
    }' "${results}"

if ((failed)); then
    die "at least one run failed or left wrong rows, keys or indexes (see above and ${LOGS}/)"
fi

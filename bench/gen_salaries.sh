#!/usr/bin/env bash
# Generates a SQLite file shaped like the `salaries` table of the MySQL "employees" sample
# (and its SQLite ports): exactly 2,844,047 rows, PRIMARY KEY (emp_no, from_date), dates as
# 'YYYY-MM-DD' text. Deterministic: the same bytes of data every time, no random().
#
# usage: bench/gen_salaries.sh OUT.sqlite
# Does nothing when OUT.sqlite already holds a `salaries` table with the right row count.
set -euo pipefail

ROWS=2844047

out="${1:?usage: bench/gen_salaries.sh OUT.sqlite}"

if [[ -f ${out} ]] &&
    [[ "$(sqlite3 "${out}" 'select count(*) from salaries' 2>/dev/null || true)" == "${ROWS}" ]]; then
    echo "gen_salaries: ${out} already has ${ROWS} rows, keeping it" >&2
    exit 0
fi

mkdir -p "$(dirname "${out}")"
# Build next to the target and rename at the end, so an interrupted run never leaves a
# half-filled file that a later run would have to detect.
tmp="${out}.tmp.$$"
trap 'rm -f "${tmp}"' EXIT
rm -f "${tmp}"

start=${SECONDS}
# Shape, per employee (emp_no 10001 upward, like the sample):
#   - h: a multiplicative hash of the employee number; its bit ranges pick the attributes.
#   - cnt: 1 to 18 yearly salary periods (mean 9.5, the sample has 9.48 per employee).
#   - 80% are still employed: their last period ends '9999-01-01' in 2002/2003, like the
#     sample's; the others left after their last period, some time up to 2002.
#   - the salary starts between 38,000 and 78,000 and rises a little every year.
# The running sum of cnt decides where to stop, and the last employee's history is cut so
# the total is exactly ROWS; rows come out in primary-key order, which SQLite loads fastest.
sqlite3 -bail "${tmp}" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;

CREATE TABLE salaries (
    emp_no    INTEGER NOT NULL,
    salary    INTEGER NOT NULL,
    from_date DATE    NOT NULL,
    to_date   DATE    NOT NULL,
    PRIMARY KEY (emp_no, from_date)
);

WITH RECURSIVE
  n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 319999),
  emp AS (
    SELECT 10001 + i AS emp_no, (i * 2654435761 + 12345) % 4294967296 AS h FROM n
  ),
  counted AS (
    SELECT emp_no, h, 1 + (h / 65536) % 18 AS cnt FROM emp
  ),
  running AS (
    SELECT emp_no, h, cnt, sum(cnt) OVER (ORDER BY emp_no) AS upto FROM counted
  ),
  kept AS (
    SELECT emp_no, h,
           cnt - max(0, upto - ${ROWS}) AS cnt,
           cnt AS full_cnt,
           (h / 1024) % 5 <> 0 AS current,
           1 + (h / 8) % 12 AS month,
           1 + (h / 256) % 28 AS day,
           38000 + (h / 16) % 40000 AS start_salary,
           500 + (h / 4194304) % 2500 AS yearly_raise
      FROM running
     WHERE upto - cnt < ${ROWS}
  ),
  hired AS (
    SELECT *,
           CASE WHEN current THEN 2003 - full_cnt
                ELSE 1985 + (h / 32) % (19 - full_cnt) END AS hire_year
      FROM kept
  ),
  period(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM period WHERE k < 17)
INSERT INTO salaries (emp_no, salary, from_date, to_date)
SELECT emp_no,
       start_salary + k * yearly_raise + (k * 7919 + h) % 700,
       printf('%04d-%02d-%02d', hire_year + k, month, day),
       CASE WHEN k = full_cnt - 1 AND current THEN '9999-01-01'
            ELSE printf('%04d-%02d-%02d', hire_year + k + 1, month, day) END
  FROM hired JOIN period ON period.k < hired.cnt
 ORDER BY emp_no, k;
SQL

got="$(sqlite3 "${tmp}" 'select count(*) from salaries')"
if [[ ${got} != "${ROWS}" ]]; then
    echo "gen_salaries: error: generated ${got} rows instead of ${ROWS}" >&2
    exit 1
fi
mv -f "${tmp}" "${out}"
trap - EXIT
echo "gen_salaries: wrote ${out}: ${ROWS} rows, $(du -h "${out}" | cut -f1), $((SECONDS - start)) s" >&2

#!/usr/bin/env bash
# Generates a MariaDB database shaped like the MySQL "employees" sample: its six tables with
# the original schema (composite primary keys, ENUM, UNIQUE, foreign keys with ON DELETE
# CASCADE) and exactly its row counts:
#   employees 300,024  departments 9  dept_manager 24  dept_emp 331,603  titles 443,308
#   salaries 2,844,047
# The data is made inside MariaDB from its SEQUENCE engine tables (seq_0_to_N) and a
# multiplicative hash of the row number: deterministic, the same rows every time, no rand().
#
# usage: bench/gen_employees.sh [DATABASE]   (default bench_employees)
# Does nothing when DATABASE already holds the six tables with these row counts and was made
# by this version of the script (its schema comment says so).
#
# Environment: BENCH_MY_HOST, BENCH_MY_PORT, BENCH_MY_USER (default 127.0.0.1, 3306, root,
# no password).
set -euo pipefail

MY_HOST="${BENCH_MY_HOST:-127.0.0.1}"
MY_PORT="${BENCH_MY_PORT:-3306}"
MY_USER="${BENCH_MY_USER:-root}"
# Changing what the script generates? Change this too, so that old copies get rebuilt.
VERSION='barge bench/gen_employees.sh v1'

db="${1:-bench_employees}"
[[ ${db} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || {
    echo "gen_employees: error: \`${db}\` is not a plain database name" >&2
    exit 1
}

# table:rows, in the order they are filled (referenced tables first).
COUNTS=(employees:300024 departments:9 dept_manager:24 dept_emp:331603 titles:443308 salaries:2844047)

my() {
    mariadb --protocol=tcp -h "${MY_HOST}" -P "${MY_PORT}" -u "${MY_USER}" \
        --batch --skip-column-names "$@"
}

# Prints "table rows" per table, then the schema comment; empty lines when missing.
state() {
    local sql='' spec
    for spec in "${COUNTS[@]}"; do
        sql+="select '${spec%%:*}', count(*) from \`${db}\`.\`${spec%%:*}\`; "
    done
    my -e "${sql} select schema_comment from information_schema.schemata where schema_name = '${db}'" \
        2>/dev/null || true
}

expected() {
    local spec
    for spec in "${COUNTS[@]}"; do printf '%s\t%s\n' "${spec%%:*}" "${spec##*:}"; done
    printf '%s\n' "${VERSION}"
}

if [[ "$(state)" == "$(expected)" ]]; then
    echo "gen_employees: ${db} already has the expected row counts, keeping it" >&2
    exit 0
fi

start=${SECONDS}
echo "gen_employees: building ${db} (about a minute)" >&2

# One session, so the TEMPORARY helper table `gen` lives through all the inserts and is gone
# afterwards (it is never a table of the database that tools would migrate).
#
# gen: one row per employee, i = 0 .. 300,023.
#   - emp_no: dense 10001..110000 for the first 100,000, then sparse (steps of 1 and 2) from
#     200,000 up, like the sample's 10001..499999 with gaps.
#   - h: a multiplicative hash of i; its bit ranges pick every other attribute.
#   - cnt: yearly salary periods, 1 to 18 (the sample has 9.48 per employee); a few are moved
#     by one, in a hash order, so that they add up to exactly 2,844,047.
#   - cur: 80% still employed (their last rows end '9999-01-01'); the others left after their
#     last period. hired so that everything ends by 2003, like the sample.
#   - two_depts (31,579 employees) and two_titles (143,284) are spread evenly over i.
# Rows go into each table in primary-key order, which InnoDB loads fastest.
my <<SQL
SET SESSION foreign_key_checks = 0, unique_checks = 0;
DROP DATABASE IF EXISTS \`${db}\`;
CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COMMENT '${VERSION}';
USE \`${db}\`;

CREATE TABLE employees (
    emp_no      INT             NOT NULL,
    birth_date  DATE            NOT NULL,
    first_name  VARCHAR(14)     NOT NULL,
    last_name   VARCHAR(16)     NOT NULL,
    gender      ENUM ('M','F')  NOT NULL,
    hire_date   DATE            NOT NULL,
    PRIMARY KEY (emp_no)
) ENGINE = InnoDB;

CREATE TABLE departments (
    dept_no     CHAR(4)         NOT NULL,
    dept_name   VARCHAR(40)     NOT NULL,
    PRIMARY KEY (dept_no),
    UNIQUE  KEY (dept_name)
) ENGINE = InnoDB;

CREATE TABLE dept_manager (
   emp_no       INT             NOT NULL,
   dept_no      CHAR(4)         NOT NULL,
   from_date    DATE            NOT NULL,
   to_date      DATE            NOT NULL,
   FOREIGN KEY (emp_no)  REFERENCES employees (emp_no)    ON DELETE CASCADE,
   FOREIGN KEY (dept_no) REFERENCES departments (dept_no) ON DELETE CASCADE,
   PRIMARY KEY (emp_no,dept_no)
) ENGINE = InnoDB;

CREATE TABLE dept_emp (
    emp_no      INT             NOT NULL,
    dept_no     CHAR(4)         NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE            NOT NULL,
    FOREIGN KEY (emp_no)  REFERENCES employees   (emp_no)  ON DELETE CASCADE,
    FOREIGN KEY (dept_no) REFERENCES departments (dept_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no,dept_no)
) ENGINE = InnoDB;

CREATE TABLE titles (
    emp_no      INT             NOT NULL,
    title       VARCHAR(50)     NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE,
    FOREIGN KEY (emp_no) REFERENCES employees (emp_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no,title, from_date)
) ENGINE = InnoDB;

CREATE TABLE salaries (
    emp_no      INT             NOT NULL,
    salary      INT             NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE            NOT NULL,
    FOREIGN KEY (emp_no) REFERENCES employees (emp_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no, from_date)
) ENGINE = InnoDB;

CREATE TEMPORARY TABLE gen (
    i          INT     NOT NULL PRIMARY KEY,
    emp_no     INT     NOT NULL,
    h          BIGINT  NOT NULL,
    cnt        INT     NOT NULL,
    cur        BOOLEAN NOT NULL,
    hire_date  DATE    NOT NULL,
    end_date   DATE    NOT NULL,
    dept       TINYINT NOT NULL,
    two_depts  BOOLEAN NOT NULL DEFAULT 0,
    two_titles BOOLEAN NOT NULL DEFAULT 0,
    UNIQUE KEY (emp_no)
) ENGINE = InnoDB;

INSERT INTO gen (i, emp_no, h, cnt, cur, hire_date, end_date, dept)
WITH base AS (
    SELECT seq AS i,
           IF(seq < 100000, 10001 + seq, 200000 + ((seq - 100000) * 3) DIV 2) AS emp_no,
           (seq * 2654435761 + 12345) % 4294967296 AS h,
           1 + ((seq * 2654435761 + 12345) % 4294967296 DIV 65536) % 18 AS cnt0,
           (seq * 7919) % 300031 AS shuffle
      FROM seq_0_to_300023
), ranked AS (
    SELECT *,
           SUM(cnt0) OVER () - 2844047 AS excess,
           ROW_NUMBER() OVER (PARTITION BY cnt0 > 1 ORDER BY shuffle) AS rn_down,
           ROW_NUMBER() OVER (PARTITION BY cnt0 < 18 ORDER BY shuffle) AS rn_up
      FROM base
), counted AS (
    SELECT i, emp_no, h,
           cnt0 + CASE WHEN excess > 0 AND cnt0 > 1 AND rn_down <= excess THEN -1
                       WHEN excess < 0 AND cnt0 < 18 AND rn_up <= -excess THEN 1
                       ELSE 0 END AS cnt,
           (h DIV 1024) % 5 <> 0 AS cur
      FROM ranked
), hired AS (
    SELECT *,
           MAKEDATE(IF(cur, 2003 - cnt, 1985 + (h DIV 32) % (19 - cnt)), 1)
             + INTERVAL (h DIV 8) % 12 MONTH + INTERVAL (h DIV 256) % 28 DAY AS hire_date
      FROM counted
)
SELECT i, emp_no, h, cnt, cur, hire_date,
       IF(cur, DATE '9999-01-01', hire_date + INTERVAL cnt YEAR),
       ELT(1 + (h DIV 131072) % 20, 5, 5, 5, 5, 5, 4, 4, 4, 4, 7, 7, 7, 9, 9, 8, 6, 1, 1, 3, 2)
  FROM hired
 ORDER BY i;

UPDATE gen JOIN seq_0_to_31578 s ON gen.i = (s.seq * 300024) DIV 31579 SET gen.two_depts = 1;
UPDATE gen JOIN seq_0_to_143283 s ON gen.i = (s.seq * 300024) DIV 143284 SET gen.two_titles = 1;

INSERT INTO departments VALUES
    ('d001', 'Marketing'), ('d002', 'Finance'), ('d003', 'Human Resources'),
    ('d004', 'Production'), ('d005', 'Development'), ('d006', 'Quality Management'),
    ('d007', 'Sales'), ('d008', 'Research'), ('d009', 'Customer Service');

INSERT INTO employees (emp_no, birth_date, first_name, last_name, gender, hire_date)
SELECT emp_no,
       DATE '1952-02-01' + INTERVAL (h DIV 4096) % 4749 DAY,
       CONCAT(ELT(1 + (h DIV 8) % 30, 'Ge', 'Be', 'Pa', 'Chi', 'Kyo', 'Ana', 'Tzv', 'Sai',
                  'Kaz', 'Ma', 'Su', 'Eb', 'Ber', 'Gua', 'Ka', 'Pr', 'Ey', 'Ram', 'Lil', 'Ya',
                  'Mo', 'Hi', 'Ud', 'Ol', 'Ar', 'Ni', 'Ha', 'Sa', 'Lu', 'Fe'),
              ELT(1 + (h DIV 240) % 25, 'orgi', 'zalel', 'rto', 'rstin', 'ichi', 'mui',
                  'etan', 'niya', 'uhide', 'rke', 'mi', 'on', 'ard', 'ng', 'ren', 'emysl',
                  'vind', 'zi', 'lian', 'tta', 'hse', 'dero', 'o', 'ivier', 'ne')),
       CONCAT(ELT(1 + (h DIV 6000) % 40, 'Fac', 'Sim', 'Bam', 'Koblick', 'Mali', 'Pree',
                  'Zie', 'Kal', 'Peac', 'Pie', 'Erde', 'Fam', 'Koc', 'Bou', 'Han', 'Hei',
                  'Nooteb', 'Bis', 'Pet', 'Gen', 'Pen', 'Tem', 'Cap', 'Schmi', 'Mig', 'War',
                  'Hof', 'Dem', 'Lort', 'Straf', 'Ziel', 'Tram', 'Vals', 'Kor', 'Mon', 'Sluis',
                  'Dun', 'Rah', 'Mukh', 'Baaz'),
              ELT(1 + (h DIV 240000) % 31, 'ello', 'mel', 'ford', 'ick', 'niak', 'ger',
                  'ke', 'loni', 'ock', 'veri', 'ls', 'eli', 'aer', 'lier', 'son', 'oom',
                  'rink', 'er', 'ham', 'tze', 'tenhausen', 'ek', 'man', 'dt', 'azzo',
                  'dell', 'ski', 'ter', 'ikh', 'ch', '')),
       IF((h DIV 2048) % 5 < 3, 'M', 'F'),
       hire_date
  FROM gen
 ORDER BY emp_no;

-- 24 managers: two per department, four for d004, d006 and d009, each for four years but
-- the last, who is still in office. All are employees of the dense range.
INSERT INTO dept_manager (emp_no, dept_no, from_date, to_date)
SELECT emp_no, dept_no,
       DATE '1985-01-01' + INTERVAL 4 * nth YEAR,
       IF(nth = last, DATE '9999-01-01', DATE '1985-01-01' + INTERVAL 4 * (nth + 1) YEAR)
  FROM (SELECT 10012 + seq * 4111 AS emp_no,
               ELT(1 + seq, 'd001', 'd001', 'd002', 'd002', 'd003', 'd003', 'd004', 'd004',
                   'd004', 'd004', 'd005', 'd005', 'd006', 'd006', 'd006', 'd006', 'd007',
                   'd007', 'd008', 'd008', 'd009', 'd009', 'd009', 'd009') AS dept_no,
               ELT(1 + seq, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 0, 1, 0, 1, 0, 1, 2, 3)
                 AS nth,
               ELT(1 + seq, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3)
                 AS last
          FROM seq_0_to_23) m
 ORDER BY emp_no, dept_no;

-- One department per employee; 31,579 of them move to another one halfway through.
INSERT INTO dept_emp (emp_no, dept_no, from_date, to_date)
SELECT emp_no, CONCAT('d00', d), from_date, to_date
  FROM (SELECT emp_no, dept AS d, hire_date AS from_date,
               IF(two_depts, hire_date + INTERVAL cnt * 6 MONTH, end_date) AS to_date
          FROM gen
        UNION ALL
        SELECT emp_no, 1 + (dept + (h DIV 7) % 8) % 9, hire_date + INTERVAL cnt * 6 MONTH,
               end_date
          FROM gen
         WHERE two_depts) r
 ORDER BY emp_no, d;

-- One title per employee; 143,284 of them are promoted halfway through.
INSERT INTO titles (emp_no, title, from_date, to_date)
SELECT emp_no, title, from_date, to_date
  FROM (SELECT emp_no, ELT(1 + (h DIV 524288) % 10, 'Staff', 'Engineer', 'Engineer', 'Staff',
                           'Assistant Engineer', 'Engineer', 'Technique Leader', 'Staff',
                           'Engineer', 'Assistant Engineer') AS title,
               hire_date AS from_date,
               IF(two_titles, hire_date + INTERVAL cnt * 6 MONTH, end_date) AS to_date
          FROM gen
        UNION ALL
        SELECT emp_no, ELT(1 + (h DIV 524288) % 10, 'Senior Staff', 'Senior Engineer',
                           'Senior Engineer', 'Senior Staff', 'Engineer', 'Senior Engineer',
                           'Manager', 'Senior Staff', 'Senior Engineer', 'Engineer'),
               hire_date + INTERVAL cnt * 6 MONTH, end_date
          FROM gen
         WHERE two_titles) r
 ORDER BY emp_no, title, from_date;

-- cnt yearly periods per employee, the salary rising a little every year.
INSERT INTO salaries (emp_no, salary, from_date, to_date)
SELECT gen.emp_no,
       38000 + (h DIV 16) % 40000 + p.seq * (500 + (h DIV 4194304) % 2500) + (p.seq * 7919 + h) % 700,
       hire_date + INTERVAL p.seq YEAR,
       IF(p.seq = cnt - 1, end_date, hire_date + INTERVAL p.seq + 1 YEAR)
  FROM gen JOIN seq_0_to_17 p ON p.seq < gen.cnt
 ORDER BY gen.emp_no, p.seq;

DROP TEMPORARY TABLE gen;
SQL

if [[ "$(state)" != "$(expected)" ]]; then
    echo "gen_employees: error: ${db} does not have the expected row counts:" >&2
    state >&2
    exit 1
fi
echo "gen_employees: built ${db} in $((SECONDS - start)) s" >&2

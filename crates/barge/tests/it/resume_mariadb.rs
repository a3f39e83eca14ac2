//! Crash and resume with a MariaDB source: barge is killed with SIGKILL at moments spread over
//! a whole run and resumed each time, or has its MariaDB sessions killed under it in the middle
//! of a copy; either way the target must end up equal to the source, row for row, with every
//! key, index, foreign key, identity and hook effect in place, each exactly once.
//!
//! A kill while a post-load step or hook statement runs does not stop it: barge sends the step
//! and its ledger record as one message, which PostgreSQL finishes and commits without its
//! client. Such kills test a step done but not known to be done; a kill inside a COPY tests a
//! chunk rolled back.
//!
//! Rows are compared by an MD5 computed on each server over a canonical text rendering of every
//! row (dates as `YYYY-MM-DD`, decimals with their scale, NULL as `~`), the rows sorted
//! bytewise, so no row has to travel through the test and either side's collation is moot.
//!
//! Restarting the MariaDB server in the middle of a copy is left out: the server is shared by
//! every suite that runs at the same time (nextest's serial group only keeps the `chaos_` and
//! `slow_` tests apart from each other), so a restart would fail unrelated tests.

use crate::mariadb::{runtime, MariaDb};
use crate::support::{assert_ok, barge_env, text, PgDb};
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STEP_DELAY_MS: &str = "120";
const BOOKS: u64 = 100_000;
const EVENTS: u64 = 60_000;

/// One PostgreSQL session kept open for polling while barge runs (a new session per poll would
/// cost more than the polls).
struct PgWatch {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl PgWatch {
    fn new(db: &PgDb) -> PgWatch {
        let rt = runtime();
        let client = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {}: {e}", db.url));
            tokio::spawn(conn);
            client
        });
        PgWatch { rt, client }
    }

    /// What barge's sessions are doing: each active statement in short, e.g. `COPY book 3000`
    /// (table and rows so far) or `CREATE INDEX`.
    fn activity(&self) -> Vec<String> {
        let sql = "SELECT a.query, p.relid::regclass::text, p.tuples_processed::text \
                   FROM pg_stat_activity a LEFT JOIN pg_stat_progress_copy p ON p.pid = a.pid \
                   WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() \
                   AND a.state = 'active' ORDER BY a.pid";
        let msgs = self
            .rt
            .block_on(self.client.simple_query(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        msgs.into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(match (r.get(1), r.get(2)) {
                    (Some(table), Some(rows)) => {
                        format!("COPY {} {rows}", table.trim_start_matches("app."))
                    }
                    _ => statement_kind(r.get(0).unwrap_or("")),
                }),
                _ => None,
            })
            .collect()
    }
}

/// The kind of a statement barge runs, from its text (post-load steps and hooks come as
/// `BEGIN; <statement>; <ledger record>; COMMIT`).
fn statement_kind(query: &str) -> String {
    let q = query.trim_start_matches("BEGIN;").trim();
    if let Some(rest) = q.strip_prefix("COPY \"app\".\"") {
        // Started, with no progress reported yet.
        let table = rest.split('"').next().unwrap_or("");
        return format!("COPY {table} -");
    }
    let first = q.split(";\n").next().unwrap_or(q);
    let kind = if first.starts_with("CREATE SCHEMA IF NOT EXISTS \"_barge\"") {
        "ledger setup"
    } else if first.starts_with("CREATE SCHEMA") || first.starts_with("DROP SCHEMA") {
        "schema DDL"
    } else if first.starts_with("ALTER TABLE") && first.contains(" PRIMARY KEY ") {
        "primary key"
    } else if first.starts_with("ALTER TABLE") && first.contains(" UNIQUE ") {
        "unique key"
    } else if first.starts_with("ALTER TABLE") && first.contains(" FOREIGN KEY ") {
        "foreign key"
    } else if first.starts_with("ALTER TABLE") && first.contains(" VALIDATE CONSTRAINT ") {
        "VALIDATE"
    } else if first.starts_with("CREATE INDEX") || first.starts_with("CREATE UNIQUE INDEX") {
        "CREATE INDEX"
    } else if first.contains("setval(") {
        "identity"
    } else if first.starts_with("ANALYZE") {
        "ANALYZE"
    } else if first.contains("hook_log") {
        "hook"
    } else {
        return first.chars().take(40).collect();
    };
    kind.to_string()
}

/// How one table's rows are rendered as canonical text on each side.
struct Rendering {
    table: &'static str,
    /// MariaDB expressions joined by `CONCAT_WS('|', ...)`.
    mariadb: &'static str,
    /// PostgreSQL expressions joined by `concat_ws('|', ...)`.
    pg: &'static str,
}

/// `(sum of the rows' hashes, row count, distinct row count)` of the source table. Each row's
/// hash is the first 60 bits of the MD5 of its canonical text, summed exactly (as DECIMAL):
/// a lost, doubled or changed row changes the sum. It is a sum rather than the MD5 of all
/// rows concatenated because MariaDB cuts GROUP_CONCAT at `max_allowed_packet` (16 MiB here)
/// with only a warning, which would compare just a prefix of a large table.
fn mariadb_digest(src: &mut MariaDb, r: &Rendering) -> Vec<Option<String>> {
    src.query(&format!(
        "SELECT IFNULL(SUM(CAST(CONV(LEFT(MD5(r), 15), 16, 10) AS UNSIGNED)), 0), COUNT(*), \
         COUNT(DISTINCT BINARY r) FROM (SELECT CONCAT_WS('|', {}) AS r FROM `{}`) x",
        r.mariadb, r.table
    ))
    .remove(0)
}

/// The same over the target table in schema `app`.
fn pg_digest(db: &PgDb, r: &Rendering) -> Vec<Option<String>> {
    db.query(&format!(
        "SELECT coalesce(sum(('x' || left(md5(r), 15))::bit(60)::bigint), 0), count(*), \
         count(DISTINCT r) FROM (SELECT concat_ws('|', {}) AS r FROM app.{}) x",
        r.pg, r.table
    ))
    .remove(0)
}

/// Every table of the target equals the source: same rows (none lost, none twice).
fn assert_same_rows(src: &mut MariaDb, db: &PgDb, renderings: &[Rendering], expected: &[u64]) {
    for (r, rows) in renderings.iter().zip(expected) {
        let source = mariadb_digest(src, r);
        assert_eq!(
            source[1].as_deref(),
            Some(rows.to_string().as_str()),
            "source table `{}`",
            r.table
        );
        assert_eq!(
            pg_digest(db, r),
            source,
            "table `{}`: (hash sum, rows, distinct rows) differ between PostgreSQL (left) and MariaDB",
            r.table
        );
    }
}

fn write_config(dir: &Path, src: &MariaDb, db: &PgDb, extra: &str) -> PathBuf {
    crate::mariadb::write_config(dir, &src.url, &db.url, extra, "")
}

fn start_barge(cfg: &str, resume: bool, out: Stdio, err: Stdio) -> Child {
    let mut args = vec!["migrate", cfg];
    if resume {
        args.push("--resume");
    }
    Command::new(env!("CARGO_BIN_EXE_barge"))
        .args(&args)
        // Every post-load step waits a little, so kills also land in the short phases.
        .env("BARGE_TEST_STEP_DELAY_MS", STEP_DELAY_MS)
        .env_remove("BARGE_SOURCE_DSN")
        .env_remove("BARGE_TARGET_DSN")
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start barge")
}

/// A moment a kill must land in: it fires (once) when one of barge's active statements, as
/// `PgWatch::activity` describes them, matches.
struct Trigger {
    name: &'static str,
    matches: fn(&str) -> bool,
}

/// `COPY <table> <rows>` with at least `min` rows loaded into the open transaction.
fn copying(activity: &str, table: &str, min: u64) -> bool {
    activity
        .strip_prefix("COPY ")
        .and_then(|rest| rest.strip_prefix(table))
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|rows| rows.parse::<u64>().ok())
        .is_some_and(|rows| rows >= min)
}

const TRIGGERS: &[Trigger] = &[
    Trigger {
        name: "schema DDL",
        matches: |a| a == "schema DDL",
    },
    Trigger {
        name: "a chunk of `book` half loaded",
        matches: |a| copying(a, "book", 1000),
    },
    Trigger {
        name: "the stream of `event_log` (no key) half loaded",
        matches: |a| copying(a, "event_log", 5000),
    },
    Trigger {
        name: "a key or index build",
        matches: |a| matches!(a, "primary key" | "unique key" | "CREATE INDEX"),
    },
    Trigger {
        name: "a foreign key",
        matches: |a| matches!(a, "foreign key" | "VALIDATE"),
    },
    Trigger {
        name: "an identity counter",
        matches: |a| a == "identity",
    },
    Trigger {
        name: "ANALYZE",
        matches: |a| a == "ANALYZE",
    },
    Trigger {
        name: "a hook statement",
        matches: |a| a == "hook",
    },
];

/// How an attempt ended.
struct Attempt {
    finished: bool,
    /// barge's active statements when it was killed.
    activity: Vec<String>,
    /// The trigger that fired, if the kill came before the deadline.
    trigger: Option<&'static str>,
}

/// A run killed with SIGKILL after `after`, or as soon as one of the `armed` triggers matches
/// what barge is doing (that trigger is then disarmed).
fn run_and_kill(
    cfg: &str,
    resume: bool,
    after: Duration,
    pg: &PgWatch,
    armed: &mut Vec<&'static Trigger>,
) -> Attempt {
    let mut child = start_barge(cfg, resume, Stdio::null(), Stdio::null());
    let deadline = Instant::now() + after;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Attempt {
                finished: status.success(),
                activity: Vec::new(),
                trigger: None,
            };
        }
        let mut fired = None;
        let mut activity = None;
        if !armed.is_empty() {
            let now = pg.activity();
            fired = armed
                .iter()
                .position(|t| now.iter().any(|a| (t.matches)(a)));
            activity = Some(now);
        }
        if fired.is_some() || Instant::now() >= deadline {
            let activity = activity.unwrap_or_else(|| pg.activity());
            child.kill().expect("SIGKILL barge");
            let _ = child.wait();
            return Attempt {
                finished: false,
                activity,
                trigger: fired.map(|i| armed.remove(i).name),
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The checkpoint's phase and copy items done so far.
fn checkpoint_progress(path: &Path) -> (String, u64) {
    let v = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    match v {
        Some(v) => (
            v["phase"].as_str().unwrap_or("").to_string(),
            v["tables"].as_array().map_or(0, |t| {
                t.iter()
                    .map(|t| t["items_done"].as_u64().unwrap_or(0))
                    .sum()
            }),
        ),
        None => ("before the first checkpoint".into(), 0),
    }
}

fn library() -> MariaDb {
    let books = format!(
        "INSERT INTO book (id, author_id, title, price, weight, published, added) \
         SELECT seq, 1 + seq % 2000, CONCAT('Title ', seq * 7919 % 100003), (seq % 10000) / 100, \
         IF(seq % 3 = 0, NULL, seq / 4), \
         IF(seq % 11 = 0, NULL, DATE '1950-01-01' + INTERVAL (seq % 20000) DAY), \
         TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq * 1001000 MICROSECOND \
         FROM seq_1_to_{BOOKS}"
    );
    // Rows repeat (every 5000 s the same instant, book and message): a table without a key
    // holds duplicates, and they must arrive exactly as many times as they are in the source.
    let events = format!(
        "INSERT INTO event_log SELECT TIMESTAMP '2022-06-01 00:00:00' + INTERVAL (seq % 5000) SECOND, \
         IF(seq % 9 = 0, NULL, 1 + seq % {BOOKS}), IF(seq % 13 = 0, NULL, CONCAT('event ', seq % 3000)) \
         FROM seq_1_to_{EVENTS}"
    );
    MariaDb::new(&[
        "CREATE TABLE author (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, \
         born DATE NULL) ENGINE=InnoDB",
        "CREATE TABLE book (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, author_id INT NOT NULL, \
         title VARCHAR(200) NOT NULL, price DECIMAL(10,2) NOT NULL, weight DOUBLE NULL, \
         published DATE NULL, added DATETIME(3) NOT NULL, \
         KEY book_author (author_id), KEY book_title (title(20), published), \
         CONSTRAINT book_author_fk FOREIGN KEY (author_id) REFERENCES author (id)) ENGINE=InnoDB",
        // A composite key of text and date: chunked by bounds compared under the column's
        // case-insensitive collation.
        "CREATE TABLE price_history (sku VARCHAR(20) NOT NULL, day DATE NOT NULL, \
         price DECIMAL(12,3) NOT NULL, note TEXT NULL, PRIMARY KEY (sku, day), \
         UNIQUE KEY ph_day_sku (day, sku)) ENGINE=InnoDB",
        // No key at all: copied as one stream, truncated and reloaded when interrupted.
        "CREATE TABLE event_log (at DATETIME NOT NULL, book_id BIGINT NULL, message VARCHAR(100) NULL, \
         KEY event_book (book_id), \
         CONSTRAINT event_book_fk FOREIGN KEY (book_id) REFERENCES book (id)) ENGINE=InnoDB",
        "INSERT INTO author (name, born) SELECT CONCAT('author ', seq, IF(seq % 7 = 0, ' Ünïcødé', '')), \
         IF(seq % 5 = 0, NULL, DATE '1900-01-01' + INTERVAL seq DAY) FROM seq_1_to_2000",
        &books,
        "INSERT INTO price_history SELECT \
         CONCAT(ELT(1 + seq % 6, 'sku-', 'SKU_', 'Ärger-', 'zz', 'a b', 'éclair'), seq % 997), \
         DATE '2001-01-01' + INTERVAL (seq DIV 997) DAY, seq * 1.125, \
         IF(seq % 4 = 0, NULL, CONCAT('note | , ', seq)) FROM seq_1_to_30000",
        &events,
    ])
}

const LIBRARY: &[Rendering] = &[
    Rendering {
        table: "author",
        mariadb: "id, name, IFNULL(DATE_FORMAT(born, '%Y-%m-%d'), '~')",
        pg: "id, name, coalesce(to_char(born, 'YYYY-MM-DD'), '~')",
    },
    Rendering {
        table: "book",
        mariadb: "id, author_id, title, price, IFNULL(weight, '~'), \
                  IFNULL(DATE_FORMAT(published, '%Y-%m-%d'), '~'), \
                  DATE_FORMAT(added, '%Y-%m-%d %H:%i:%s.%f')",
        pg: "id, author_id, title, price, coalesce(weight::text, '~'), \
             coalesce(to_char(published, 'YYYY-MM-DD'), '~'), \
             to_char(added, 'YYYY-MM-DD HH24:MI:SS.US')",
    },
    Rendering {
        table: "price_history",
        mariadb: "sku, DATE_FORMAT(day, '%Y-%m-%d'), price, IFNULL(note, '~')",
        pg: "sku, to_char(day, 'YYYY-MM-DD'), price, coalesce(note, '~')",
    },
    Rendering {
        table: "event_log",
        mariadb: "DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s'), IFNULL(book_id, '~'), IFNULL(message, '~')",
        pg: "to_char(at, 'YYYY-MM-DD HH24:MI:SS'), coalesce(book_id::text, '~'), \
             coalesce(message, '~')",
    },
];

const LIBRARY_ROWS: &[u64] = &[2000, BOOKS, 30_000, EVENTS];

/// A hook file at each point, each logging one row (with a count that shows the point ran at
/// its place in the run) and sleeping a little, so kills land inside hooks too. After any
/// number of kills, each row must be there exactly once.
const HOOKS: &[(&str, &str)] = &[
    (
        "before_data",
        "CREATE TABLE {{schema}}.hook_log (seq serial, point text NOT NULL, n bigint NOT NULL);\n\
         INSERT INTO {{schema}}.hook_log (point, n)\n  \
         SELECT 'before_data', count(*) FROM {{schema}}.book, pg_sleep(0.1);\n",
    ),
    (
        "after_data",
        "INSERT INTO {{schema}}.hook_log (point, n)\n  \
         SELECT 'after_data', count(*) FROM {{schema}}.book, pg_sleep(0.1);\n",
    ),
    (
        "before_fk",
        "INSERT INTO {{schema}}.hook_log (point, n) SELECT 'before_fk', count(*)\n  \
         FROM pg_constraint, pg_sleep(0.1) WHERE contype = 'f' AND connamespace = '{{schema}}'::regnamespace;\n",
    ),
    (
        "after_all",
        "INSERT INTO {{schema}}.hook_log (point, n) SELECT 'after_all', count(*)\n  \
         FROM pg_constraint, pg_sleep(0.1) WHERE contype = 'f' AND connamespace = '{{schema}}'::regnamespace;\n",
    ),
];

/// SIGKILL at moments walked through a whole run (at least 12), a resume after each; then
/// the target equals the source and holds every key, index, foreign key, identity and hook
/// effect once.
#[test]
fn chaos_mariadb_kill_anywhere_and_resume() {
    let mut src = library();
    let db = PgDb::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hooks = String::from("[hooks]\n");
    for (point, sql) in HOOKS {
        std::fs::write(dir.path().join(format!("{point}.sql")), sql).expect("write hook file");
        hooks.push_str(&format!("{point} = [\"{point}.sql\"]\n"));
    }
    let cfg = write_config(
        dir.path(),
        &src,
        &db,
        &format!("chunk_size = 10000\nworkers = 2\n\n{hooks}"),
    );
    let cfg = cfg.to_str().expect("utf-8 path");
    let checkpoint = dir.path().join("barge_checkpoint.json");
    let pg = PgWatch::new(&db);

    // One clean run to learn how long a whole run takes here.
    let started = Instant::now();
    assert_ok(&barge_env(
        &["migrate", cfg],
        &[("BARGE_TEST_STEP_DELAY_MS", STEP_DELAY_MS)],
    ));
    let full = started.elapsed();
    db.execute("DROP SCHEMA app CASCADE");

    // Each attempt is killed after a slice of a full run's time; a resumed run spends part of
    // its slice starting up, so when a kill finds the run where the last one left it, the next
    // slice grows. Kills thus walk through DDL, both kinds of copy, index builds, foreign keys,
    // identities, ANALYZE and hooks. On top of that, the first attempt that finds barge inside
    // one of the `TRIGGERS` moments (a half-loaded chunk or stream, an index build, ...) is
    // killed right then, so the short moments are hit however the slices fall.
    let mut slice = full.mul_f64(1.0 / 40.0);
    let mut armed: Vec<&'static Trigger> = TRIGGERS.iter().collect();
    // (checkpoint phase after the kill, active statements, trigger)
    let mut kills: Vec<(String, Vec<String>, Option<&str>)> = Vec::new();
    let mut finished = false;
    let mut last = checkpoint_progress(&checkpoint);
    for attempt in 0..80 {
        // A kill before the run recorded itself leaves nothing to resume: start it again.
        let resume = attempt > 0 && crate::support::has_run_to_resume(&db, "app");
        let a = run_and_kill(cfg, resume, slice, &pg, &mut armed);
        if a.finished {
            finished = true;
            break;
        }
        let now = checkpoint_progress(&checkpoint);
        if now == last {
            slice = slice.mul_f64(1.25);
        }
        kills.push((now.0.clone(), a.activity, a.trigger));
        last = now;
    }
    // However often it was killed, one more resume finishes the job (or says it is done).
    let last_args: &[&str] = if crate::support::has_run_to_resume(&db, "app") || finished {
        &["migrate", cfg, "--resume"]
    } else {
        &["migrate", cfg]
    };
    let last = barge_env(last_args, &[("BARGE_TEST_STEP_DELAY_MS", STEP_DELAY_MS)]);
    let last_text = assert_ok(&last);

    let mut per_phase: BTreeMap<&str, usize> = BTreeMap::new();
    for (phase, _, _) in &kills {
        *per_phase.entry(phase.as_str()).or_default() += 1;
    }
    let report = format!(
        "{} kills (run finished within a slice: {finished}), per phase: {per_phase:?}\n{}",
        kills.len(),
        kills
            .iter()
            .map(|(p, a, t)| match t {
                Some(t) => format!("  {p}: {a:?} (on {t})"),
                None => format!("  {p}: {a:?}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(kills.len() >= 12, "{report}");
    // Each kind of moment was hit: seen in barge's statements, or (for the waits before the
    // post-load steps, when no statement runs) in the checkpoint's phase.
    for (what, phases, triggers) in [
        ("a chunk of the multi-chunk table", &[][..], &[1][..]),
        ("the stream of the table without a key", &[], &[2]),
        ("keys and indexes", &["building keys and indexes"], &[3]),
        (
            "foreign keys",
            &["adding foreign keys", "adding check constraints"],
            &[4],
        ),
        (
            "identities and ANALYZE",
            &["setting identity counters", "analyzing", "finishing"],
            &[5, 6],
        ),
        (
            "hooks",
            &[
                "running before_data hooks",
                "running after_data hooks",
                "running before_fk hooks",
                "running after_all hooks",
            ],
            &[7],
        ),
    ] {
        let hit = kills.iter().any(|(phase, activity, _)| {
            phases.contains(&phase.as_str())
                || triggers
                    .iter()
                    .any(|&t| activity.iter().any(|a| (TRIGGERS[t].matches)(a)))
        });
        assert!(hit, "no kill during {what}\n{report}");
    }

    // Same rows, none lost, none twice.
    assert_same_rows(&mut src, &db, LIBRARY, LIBRARY_ROWS);
    // Every hook statement ran exactly once, at its place in the run.
    let log = db.query("SELECT point || ' ' || n FROM app.hook_log ORDER BY seq");
    let log: Vec<&str> = log.iter().map(|r| r[0].as_deref().unwrap_or("")).collect();
    let after_data = format!("after_data {BOOKS}");
    assert_eq!(
        log,
        ["before_data 0", &after_data, "before_fk 0", "after_all 2"],
        "{report}"
    );
    // Every constraint, each exactly once, all valid.
    let constraints = db.query(
        "SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || convalidated::text \
         || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c \
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'app' ORDER BY 1",
    );
    let constraints: Vec<&str> = constraints
        .iter()
        .map(|r| r[0].as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        constraints,
        [
            "app.author p true PRIMARY KEY (id)",
            "app.book f true FOREIGN KEY (author_id) REFERENCES app.author(id) ON UPDATE RESTRICT ON DELETE RESTRICT",
            "app.book p true PRIMARY KEY (id)",
            "app.event_log f true FOREIGN KEY (book_id) REFERENCES app.book(id) ON UPDATE RESTRICT ON DELETE RESTRICT",
            "app.price_history p true PRIMARY KEY (sku, day)",
            "app.price_history u true UNIQUE (day, sku)",
        ],
        "{last_text}"
    );
    // Every index, once, valid and ready.
    let indexes = db.query(
        "SELECT c.relname || ' ' || i.indisvalid::text || ' ' || i.indisready::text \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' ORDER BY 1",
    );
    let indexes: Vec<&str> = indexes
        .iter()
        .map(|r| r[0].as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        indexes,
        [
            "author_pkey true true",
            "book_book_author true true",
            "book_book_title true true",
            "book_pkey true true",
            "event_log_event_book true true",
            "price_history_day_sku_key true true",
            "price_history_pkey true true",
        ]
    );
    // Both AUTO_INCREMENT columns are identities that continue past the loaded rows.
    let identities = db.query(
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'app' AND is_identity = 'YES' ORDER BY 1",
    );
    let identities: Vec<&str> = identities
        .iter()
        .map(|r| r[0].as_deref().unwrap_or(""))
        .collect();
    assert_eq!(identities, ["author.id", "book.id"]);
    // The next id is MariaDB's own AUTO_INCREMENT counter (InnoDB reserves ids in batches
    // for INSERT ... SELECT, so it can be past max(id) + 1), exactly as the source would give.
    let counter = |src: &mut MariaDb, table: &str| -> String {
        src.query(&format!(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
        ))[0][0]
            .clone()
            .unwrap_or_default()
    };
    let author_next = counter(&mut src, "author");
    let book_next = counter(&mut src, "book");
    assert_eq!(
        db.scalar("INSERT INTO app.author (name) VALUES ('new') RETURNING id")
            .as_deref(),
        Some(author_next.as_str())
    );
    assert_eq!(
        db.scalar(
            "INSERT INTO app.book (author_id, title, price, added) \
             VALUES (1, 'new', 1, now()) RETURNING id"
        )
        .as_deref(),
        Some(book_next.as_str())
    );
    // The run cleaned up after itself.
    crate::support::assert_ledger_clean(&db, "app");
    assert!(!checkpoint.exists());
}

/// barge's MariaDB sessions are killed three times while it reads chunks: each failed chunk
/// is retried alone on a new session, and the run finishes with the source's rows exactly.
#[test]
fn chaos_mariadb_connection_killed_mid_copy_is_retried() {
    // A chunk read is a plain SELECT of the table, not the MIN/MAX and LIMIT seeks of chunk
    // planning. Chunks of 60,000 rows (about 14 MB) are far more than the socket buffers hold,
    // so the server is still sending when the kill lands and barge is sure to feel it; with
    // small chunks the server could finish a chunk into the buffers before the kill and
    // barge would read it whole.
    let output = kill_sessions(3, Duration::from_millis(700), 60_000, false, |q| {
        !q.contains("LIMIT") && !q.contains("MIN(")
    });
    assert!(
        output.contains("retrying table `reading` chunk"),
        "{output}"
    );
}

/// The same while barge plans the chunks (the LIMIT seeks over the key index): planning the
/// table starts again on new sessions, and the run finishes with the source's rows exactly.
#[test]
fn chaos_mariadb_connection_killed_mid_planning_is_retried() {
    // Planning takes a moment: watch again soon after a kill, to catch the retry's seeks. A
    // kill can also land just after a seek finished, so only the first is sure to be felt.
    // A text key is planned by walking it (an integer key is planned from estimates in a few
    // quick queries), and small chunks make many seeks: planning lasts long enough to catch.
    let output = kill_sessions(1, Duration::from_millis(100), 5_000, true, |q| {
        q.contains("LIMIT")
    });
    // Felt: planning (well under 0.5 s here) waited out at least one retry's backoff.
    let planned_after: f64 = output
        .lines()
        .find(|l| l.ends_with("] creating the schema ..."))
        .and_then(|l| l.trim_start_matches('[').split('s').next())
        .and_then(|secs| secs.trim().parse().ok())
        .unwrap_or_else(|| panic!("no schema phase in the output:\n{output}"));
    assert!(planned_after >= 0.5, "no planning retry:\n{output}");
    assert!(
        output.contains("table `reading`: chunk planning lost its MySQL session"),
        "the retry is reported:\n{output}"
    );
}

/// Run barge over a 300,000-row table (about 70 MB) read in chunks of `chunk_size` rows and
/// kill all its MariaDB sessions whenever one of them runs a SELECT of that table that
/// `matches`, up to three times and at least `at_least` times; the run must finish with every
/// row. After a kill, `pause` leaves barge time to notice before watching again. The key is
/// `CHAR(10)` (zero-padded numbers) with `text_key`, else `INT`. Returns barge's output.
fn kill_sessions(
    at_least: usize,
    pause: Duration,
    chunk_size: u64,
    text_key: bool,
    matches: fn(&str) -> bool,
) -> String {
    const ROWS: u64 = 300_000;
    let mut src = MariaDb::new(&[
        &format!(
            "CREATE TABLE reading (id {} NOT NULL PRIMARY KEY, sensor VARCHAR(20) NOT NULL, \
             at DATETIME NOT NULL, value DECIMAL(9,3) NULL, note VARCHAR(250) NOT NULL) \
             ENGINE=InnoDB",
            if text_key { "CHAR(10)" } else { "INT" }
        ),
        &format!(
            "INSERT INTO reading SELECT {}, CONCAT('sensor-', seq % 97), \
             TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, \
             IF(seq % 17 = 0, NULL, (seq % 100000) / 8), \
             CONCAT(seq, ':', REPEAT('n', 180 + seq % 50)) FROM seq_1_to_{ROWS}",
            if text_key {
                "LPAD(seq, 10, '0')"
            } else {
                "seq"
            }
        ),
    ]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = write_config(
        dir.path(),
        &src,
        &db,
        &format!("chunk_size = {chunk_size}\nworkers = 1"),
    );
    let cfg = cfg.to_str().expect("utf-8 path");
    let out_path = dir.path().join("barge.out");
    let err_path = dir.path().join("barge.err");
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = start_barge(cfg, false, out.into(), err.into());

    // Whenever barge runs a matching statement, kill every session it has on the database;
    // then leave it time to retry.
    let mut rounds = 0;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("barge did not finish in 300 s");
        }
        if rounds < 3 {
            let sessions = src.other_sessions();
            let reading = sessions.iter().any(|(_, info)| {
                info.as_deref().is_some_and(|q| {
                    q.starts_with("SELECT") && q.contains("FROM `reading`") && matches(q)
                })
            });
            if reading {
                for (id, _) in &sessions {
                    // The session may be gone already.
                    let conn = src.conn.as_mut().expect("MariaDB session");
                    let _ = src
                        .rt
                        .block_on(conn.query_drop(format!("KILL CONNECTION {id}")));
                }
                rounds += 1;
                std::thread::sleep(pause);
                continue;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = std::process::Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    };
    let output_text = text(&output);
    assert!(
        rounds >= at_least,
        "killed barge's sessions only {rounds} times: the run was past that point\n{output_text}"
    );
    assert_eq!(output.status.code(), Some(0), "{output_text}");
    assert_same_rows(
        &mut src,
        &db,
        &[Rendering {
            table: "reading",
            mariadb: "id, sensor, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s'), IFNULL(value, '~'), note",
            pg: "id, sensor, to_char(at, 'YYYY-MM-DD HH24:MI:SS'), coalesce(value::text, '~'), \
                 note",
        }],
        &[ROWS],
    );
    crate::support::assert_ledger_clean(&db, "app");
    output_text
}

/// The identity continues from MariaDB's AUTO_INCREMENT counter when it is past the largest
/// loaded id (rows deleted at the end of the table), so old ids are never handed out again.
#[test]
fn auto_increment_counter_carries_over() {
    let src = MariaDb::new(&[
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)",
        "INSERT INTO t (v) VALUES ('a'), ('b'), ('c'), ('d')",
        "DELETE FROM t WHERE id > 2",
    ]);
    let db = PgDb::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = write_config(dir.path(), &src, &db, "");
    assert_ok(&crate::support::barge(&["migrate", cfg.to_str().unwrap()]));
    db.execute("INSERT INTO app.t (v) VALUES ('e')");
    assert_eq!(db.scalar("SELECT max(id) FROM app.t").as_deref(), Some("5"));
}

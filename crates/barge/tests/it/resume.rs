//! Crash and resume: barge is killed with SIGKILL at moments spread over a whole run, resumed
//! each time, and the result must equal the source exactly, with every key, index, foreign
//! key, check and identity in place.

use crate::support::{assert_ok, barge, text, Fixture, PgDb};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 120_000;
const STEP_DELAY_MS: &str = "120";

fn fixture() -> Fixture {
    Fixture::sqlite(&format!(
        r#"
        CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES author (id),
            title TEXT NOT NULL, pages INT CHECK (pages > 0));
        CREATE INDEX book_author ON book (author_id);
        CREATE INDEX book_title ON book (lower(title));
        -- no rowid: copied as one stream, truncated and reloaded when interrupted
        CREATE TABLE tag (book_id INTEGER NOT NULL REFERENCES book (id), tag TEXT NOT NULL,
            PRIMARY KEY (book_id, tag)) WITHOUT ROWID;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
          INSERT INTO author SELECT i, 'author ' || i FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
          INSERT INTO book SELECT i, 1 + i % 2000, 'Title ' || (i * 7919 % 100003), 1 + i % 900 FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
          INSERT INTO tag SELECT i, 't' || (i % 13) FROM n;
        "#
    ))
}

/// An ordered digest of a table's rows on the PostgreSQL side.
fn pg_digest(db: &PgDb, table: &str, cols: &str, order: &str) -> String {
    db.scalar(&format!(
        "SELECT md5(coalesce(string_agg(concat_ws('|', {cols}), ',' ORDER BY {order}), '')) FROM app.{table}"
    ))
    .unwrap_or_default()
}

/// The same digest over the SQLite rows, computed by PostgreSQL's md5 of the joined text.
fn sqlite_digest(fx: &Fixture, db: &PgDb, sql: &str) -> String {
    let conn = rusqlite::Connection::open(&fx.sqlite).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let rows: Vec<String> = stmt
        .query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    db.scalar(&format!(
        "SELECT md5('{}')",
        rows.join(",").replace('\'', "''")
    ))
    .unwrap()
}

fn run_and_kill(cfg: &str, resume: bool, after: Duration) -> bool {
    let mut args = vec!["migrate", cfg];
    if resume {
        args.push("--resume");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_barge"))
        .args(&args)
        // Every post-load step waits a little, so kills also land in the short phases.
        .env("BARGE_TEST_STEP_DELAY_MS", STEP_DELAY_MS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start barge");
    let deadline = Instant::now() + after;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.success();
        }
        if Instant::now() >= deadline {
            child.kill().expect("SIGKILL barge");
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn chaos_sqlite_kill_anywhere_and_resume() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 10000\nworkers = 2");
    let cfg = cfg.to_str().unwrap();

    // One clean run to learn how long a whole run takes here.
    let started = Instant::now();
    assert_ok(&crate::support::barge_env(
        &["migrate", cfg],
        &[("BARGE_TEST_STEP_DELAY_MS", STEP_DELAY_MS)],
    ));
    let full = started.elapsed();
    db.execute("DROP SCHEMA app CASCADE");

    // Each attempt is killed after a slice of a full run's time; a resumed run spends part of
    // its slice starting up, so when a kill finds the run where the last one left it, the
    // next slice grows. Kills thus walk through DDL, both kinds of copy, index builds, foreign
    // keys, checks, identities and ANALYZE.
    let mut slice = full.mul_f64(1.0 / 40.0);
    let mut phases: Vec<String> = Vec::new();
    let mut finished = false;
    let checkpoint = fx.path().join("barge_checkpoint.json");
    // Progress is the ledger's count of done steps (every chunk, key, index, constraint...),
    // plus the phase the checkpoint file shows.
    let progress = || -> (String, u64) {
        let phase = std::fs::read_to_string(&checkpoint)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["phase"].as_str().map(String::from))
            .unwrap_or_else(|| "before the first checkpoint".into());
        let done = db
            .query(
                "SELECT count(*) FROM pg_tables WHERE schemaname = '_barge' AND tablename = 'progress'",
            )
            .first()
            .and_then(|r| r[0].clone())
            .filter(|n| n == "1")
            .and_then(|_| db.scalar("SELECT count(*) FROM _barge.progress WHERE run_schema = 'app'"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (phase, done)
    };
    let mut last = progress();
    for attempt in 0..60 {
        // A kill before the run recorded itself leaves nothing to resume: start it again.
        let resume = attempt > 0 && crate::support::has_run_to_resume(&db, "app");
        if run_and_kill(cfg, resume, slice) {
            finished = true;
            break;
        }
        let now = progress();
        if now == last {
            slice = slice.mul_f64(1.25);
        }
        phases.push(now.0.clone());
        last = now;
    }
    // However often it was killed, one more resume finishes the job (or says it is done).
    let last = if crate::support::has_run_to_resume(&db, "app") || finished {
        barge(&["migrate", cfg, "--resume"])
    } else {
        barge(&["migrate", cfg])
    };
    assert_ok(&last);
    let distinct: std::collections::BTreeSet<_> = phases.iter().collect();
    assert!(
        phases.len() >= 12,
        "only {} kills (finished: {finished}): {phases:?}",
        phases.len()
    );
    // Foreign keys are added and validated while the keys phase runs (as soon as both of
    // their tables have keys), so kills in that phase land in them too; the phases after it
    // are short and count as one.
    for group in [
        &["copying data"][..],
        &["building keys and indexes"],
        &[
            "adding foreign keys",
            "adding check constraints",
            "setting identity counters",
            "analyzing",
            "finishing",
        ],
    ] {
        assert!(
            group.iter().any(|p| distinct.contains(&p.to_string())),
            "no kill during any of {group:?}: {phases:?}"
        );
    }

    // Same rows, in the same order, with no duplicates.
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.book").as_deref(),
        Some(ROWS.to_string().as_str())
    );
    assert_eq!(
        pg_digest(&db, "book", "id, author_id, title, pages", "id"),
        sqlite_digest(
            &fx,
            &db,
            "SELECT id, author_id, title, pages FROM book ORDER BY id"
        ),
        "{}",
        text(&last)
    );
    assert_eq!(
        pg_digest(&db, "author", "id, name", "id"),
        sqlite_digest(&fx, &db, "SELECT id, name FROM author ORDER BY id")
    );
    assert_eq!(
        pg_digest(&db, "tag", "book_id, tag", "book_id, tag"),
        sqlite_digest(
            &fx,
            &db,
            "SELECT book_id, tag FROM tag ORDER BY book_id, tag"
        )
    );
    // Every constraint and index, each exactly once, all valid.
    let constraints = db.query(
        "SELECT conrelid::regclass::text, contype::text, convalidated::text FROM pg_constraint c \
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'app' ORDER BY 1, 2",
    );
    let summary: Vec<String> = constraints
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r[0].as_deref().unwrap(),
                r[1].as_deref().unwrap(),
                r[2].as_deref().unwrap()
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "app.author p true",
            "app.book c true",
            "app.book f true",
            "app.book p true",
            "app.tag f true",
            "app.tag p true"
        ],
        "{summary:?}"
    );
    let indexes = db.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'app' ORDER BY 1");
    let names: Vec<&str> = indexes.iter().map(|r| r[0].as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "author_pkey",
            "book_author",
            "book_pkey",
            "book_title",
            "tag_pkey"
        ]
    );
    // The identity continues past the loaded rows.
    db.execute("INSERT INTO app.author (name) VALUES ('new')");
    assert_eq!(
        db.scalar("SELECT max(id) FROM app.author").as_deref(),
        Some("2001")
    );
    // The run cleaned up after itself.
    crate::support::assert_ledger_clean(&db, "app");
    assert!(!fx.path().join("barge_checkpoint.json").exists());
}

/// A checkpoint from a run whose source has since changed is refused with the reason;
/// `--restart` discards it and starts over.
#[test]
fn incompatible_checkpoint_is_refused_and_restart_recovers() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 10000\nworkers = 1");
    let cfg = cfg.to_str().unwrap();
    // Kill early in the copy so an interrupted run is recorded.
    let mut killed = false;
    for ms in [150, 300, 600, 1200] {
        db.execute("DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA IF EXISTS _barge CASCADE");
        if !run_and_kill(cfg, false, Duration::from_millis(ms))
            && fx.path().join("barge_checkpoint.json").exists()
        {
            killed = true;
            break;
        }
    }
    assert!(killed, "could not interrupt a run");
    let status = barge(&["checkpoint", "status", cfg]);
    let status_text = assert_ok(&status);
    assert!(
        status_text.contains("matches the current configuration"),
        "{status_text}"
    );

    // The source changes: more rows, so the chunk plan is different.
    let conn = rusqlite::Connection::open(&fx.sqlite).unwrap();
    conn.execute_batch("INSERT INTO book VALUES (999999, 1, 'late', 3);")
        .unwrap();
    drop(conn);
    let refused = barge(&["migrate", cfg, "--resume"]);
    let refused_text = text(&refused);
    assert_eq!(refused.status.code(), Some(4), "{refused_text}");
    assert!(
        refused_text.contains("cannot resume run `")
            && refused_text.contains("` into schema `app`"),
        "{refused_text}"
    );
    assert!(
        refused_text.contains("chunk plan changed"),
        "{refused_text}"
    );
    assert!(refused_text.contains("--restart"), "{refused_text}");

    assert_ok(&barge(&["migrate", cfg, "--restart"]));
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.book").as_deref(),
        Some((ROWS + 1).to_string().as_str())
    );
}

/// In the default `on_schema_exists = "error"` mode, a rerun without `--resume` refuses to
/// build on an interrupted run and says how to continue; `--resume` then finishes it.
#[test]
fn default_error_mode_points_to_resume_and_resume_finishes() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config_toml(&db, "schema = \"app\"\nchunk_size = 10000\nworkers = 1");
    let cfg = cfg.to_str().unwrap();
    let mut killed = false;
    for ms in [200, 400, 800, 1600] {
        db.execute("DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA IF EXISTS _barge CASCADE");
        if !run_and_kill(cfg, false, Duration::from_millis(ms))
            && db
                .scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'app'")
                .as_deref()
                == Some("1")
        {
            killed = true;
            break;
        }
    }
    assert!(
        killed,
        "could not interrupt a run after its schema was created"
    );
    let again = barge(&["migrate", cfg]);
    let again_text = text(&again);
    assert_eq!(again.status.code(), Some(4), "{again_text}");
    assert!(
        again_text.contains("schema `app` holds an interrupted barge run"),
        "{again_text}"
    );
    assert!(again_text.contains("--resume"), "{again_text}");
    let resumed = barge(&["migrate", cfg, "--resume"]);
    let resumed_text = assert_ok(&resumed);
    assert!(resumed_text.contains("resumed run"), "{resumed_text}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.book").as_deref(),
        Some(ROWS.to_string().as_str())
    );
    assert_eq!(
        pg_digest(&db, "book", "id, author_id, title, pages", "id"),
        sqlite_digest(
            &fx,
            &db,
            "SELECT id, author_id, title, pages FROM book ORDER BY id"
        )
    );
}

/// data_only loads into empty tables only: rows already there are never mixed with the copy.
#[test]
fn data_only_refuses_tables_that_hold_rows() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');",
    );
    let db = PgDb::new();
    db.execute("CREATE SCHEMA app; CREATE TABLE app.t (id bigint PRIMARY KEY, v text); INSERT INTO app.t VALUES (7, 'mine')");
    let cfg = fx.config_toml(&db, "schema = \"app\"\ndata_only = true");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(out.contains("these already hold rows: `t`"), "{out}");
    assert_eq!(
        db.scalar("SELECT string_agg(v, ',') FROM app.t").as_deref(),
        Some("mine")
    );
    db.execute("TRUNCATE app.t");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.scalar("SELECT string_agg(v, ',') FROM app.t").as_deref(),
        Some("a")
    );
}

/// Only one run may work on a target schema: a second one is refused while the first holds
/// the schema's run lock.
#[test]
fn a_second_run_on_the_same_schema_is_refused() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let holder = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute("SELECT pg_advisory_lock(hashtext('barge:app'))")
            .await
            .unwrap();
        client
    });
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(
        out.contains("another barge run is working on schema `app`"),
        "{out}"
    );
    drop(holder);
    drop(rt);
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
}

/// Values loaded as NULL keep their reject line across a crash: every invalid value appears
/// in the report exactly once after the resumed run.
#[test]
fn chaos_reject_report_survives_a_crash() {
    let fx = Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
           INSERT INTO t SELECT i, CASE WHEN i % 2000 = 0 THEN 'bad' || i ELSE i END FROM n;",
    );
    let db = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        "chunk_size = 5000\nworkers = 1\non_invalid_value = \"null\"",
    );
    let cfg = cfg.to_str().unwrap();
    let done = || -> u64 {
        db.query("SELECT to_regclass('_barge.progress') IS NOT NULL")
            .first()
            .and_then(|r| r[0].clone())
            .filter(|v| v == "t")
            .and_then(|_| {
                db.scalar("SELECT count(*) FROM _barge.progress WHERE run_schema = 'app' AND item LIKE 'copy %'")
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    // Kill while some chunks (and their rejects) are committed and others are not.
    let mut child = Command::new(env!("CARGO_BIN_EXE_barge"))
        .args(["migrate", cfg])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start barge");
    let deadline = Instant::now() + Duration::from_secs(60);
    while done() < 5 {
        assert!(Instant::now() < deadline, "no chunk committed in time");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(done() < 40, "the copy had already finished");
    assert_ok(&barge(&["migrate", cfg, "--resume"]));
    let report =
        std::fs::read_to_string(fx.path().join("barge_rejects.jsonl")).expect("reject report");
    let mut rows: Vec<String> = report
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["row"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    rows.sort();
    let mut expected: Vec<String> = (1..=100).map(|k| format!("rowid {}", k * 2000)).collect();
    expected.sort();
    assert_eq!(rows, expected);
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t WHERE qty IS NULL")
            .as_deref(),
        Some("100")
    );
}

/// With `validation = "checksum"` the source side is hashed as the copy streams it. A resumed
/// run did not stream the chunks the interrupted run committed: it must read those from the
/// source again, so a row changed in one of them after the crash is found, and only that row.
#[test]
fn checksum_after_resume_rereads_the_chunks_an_earlier_run_committed() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config_toml(
        &db,
        "schema = \"app\"\nchunk_size = 2000\nworkers = 1\nvalidation = \"checksum\"",
    );
    let cfg = cfg.to_str().unwrap();
    // 0 also before the table exists.
    let book_rows = || -> i64 {
        if db
            .scalar("SELECT to_regclass('app.book') IS NOT NULL")
            .as_deref()
            != Some("t")
        {
            return 0;
        }
        db.scalar("SELECT count(*) FROM app.book")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    // Kill the run while `book` is partly copied (some chunks committed, not all).
    let mut partly = false;
    for ms in (1..=40).map(|k| 60 * k) {
        db.execute("DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA IF EXISTS _barge CASCADE");
        if run_and_kill(cfg, false, Duration::from_millis(ms)) {
            continue;
        }
        let rows = book_rows();
        if rows > 0 && rows < ROWS {
            partly = true;
            break;
        }
        if rows == ROWS {
            break;
        }
    }
    assert!(
        partly,
        "could not interrupt the copy of `book` between chunks"
    );
    // A committed chunk's row changes behind barge's back; the resume does not copy it again.
    let victim = db.scalar("SELECT min(id) FROM app.book").unwrap();
    db.execute(&format!(
        "UPDATE app.book SET title = 'tampered' WHERE id = {victim}"
    ));
    let resumed = barge(&["migrate", cfg, "--resume", "--format", "json"]);
    let t = text(&resumed);
    assert_eq!(resumed.status.code(), Some(4), "{t}");
    let summary: serde_json::Value =
        serde_json::from_slice(&resumed.stdout).unwrap_or_else(|e| panic!("{e}: {t}"));
    assert_eq!(summary["resumed"], true, "{summary:#}");
    assert_eq!(book_rows(), ROWS);
    // Exactly one bucket of `book` differs, holding exactly the changed row, and every other
    // table matches: the chunks streamed by this run and those read again add up exactly.
    let checks = summary["validation"]
        .as_array()
        .unwrap_or_else(|| panic!("validation results in {summary:#}"));
    for check in checks {
        let name = check["target_name"].as_str().unwrap_or_default();
        assert_eq!(check["source_rows"], check["target_rows"], "{check:#}");
        let (chunks, rows) = (
            &check["checksum"]["differing_chunks"],
            &check["checksum"]["differing_rows"],
        );
        if name == "book" {
            assert_eq!(
                (chunks.as_u64(), rows.as_u64()),
                (Some(1), Some(1)),
                "{check:#}"
            );
            let diff = &check["checksum"]["differences"][0];
            assert_eq!(diff["kind"], "changed", "{check:#}");
            assert_eq!(diff["row"], format!("(id) = ({victim})"), "{check:#}");
            assert_eq!(diff["columns"][0]["column"], "title", "{check:#}");
            assert_eq!(diff["columns"][0]["target"], "'tampered'", "{check:#}");
        } else {
            assert_eq!(chunks.as_u64(), Some(0), "{check:#}");
        }
    }
    assert_eq!(checks.len(), 3, "{summary:#}");
}

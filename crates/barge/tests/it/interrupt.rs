//! Interrupts end cleanly: SIGINT at any moment of a run (copy or post-load) ends with exit
//! 130, the command that continues the run, no other error, and that command finishes the
//! migration with exactly the source's rows; a second SIGINT aborts at once, saying so;
//! post-load reports its progress.

use crate::continuing::{printed_resume_command, run_words, sigint};
use crate::support::{assert_exit, assert_ok, barge_env, text, Fixture, PgDb};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 60_000;

fn fixture() -> Fixture {
    Fixture::sqlite(&format!(
        r#"
        CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES author (id),
            title TEXT NOT NULL, pages INT CHECK (pages > 0));
        CREATE INDEX book_author ON book (author_id);
        CREATE INDEX book_title ON book (lower(title));
        CREATE TABLE tag (book_id INTEGER NOT NULL REFERENCES book (id), tag TEXT NOT NULL,
            PRIMARY KEY (book_id, tag)) WITHOUT ROWID;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
          INSERT INTO author SELECT i, 'author ' || i FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
          INSERT INTO book SELECT i, 1 + i % 1000, 'Title ' || (i * 7919 % 100003), 1 + i % 900 FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
          INSERT INTO tag SELECT i, 't' || (i % 13) FROM n;
        "#
    ))
}

/// Every row of the three tables, in key order, as one digest per table.
fn pg_digests(db: &PgDb) -> Vec<Option<String>> {
    [
        ("author", "id, name", "id"),
        ("book", "id, author_id, title, pages", "id"),
        ("tag", "book_id, tag", "book_id, tag"),
    ]
    .iter()
    .map(|(t, cols, order)| {
        db.scalar(&format!(
            "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', {cols}), ',' ORDER BY {order})) FROM app.{t}"
        ))
    })
    .collect()
}

/// The same digests over the SQLite rows (PostgreSQL computes the md5 of the same text).
fn sqlite_digests(fx: &Fixture, db: &PgDb) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(&fx.sqlite).unwrap();
    [
        "SELECT id, name FROM author ORDER BY id",
        "SELECT id, author_id, title, pages FROM book ORDER BY id",
        "SELECT book_id, tag FROM tag ORDER BY book_id, tag",
    ]
    .iter()
    .map(|sql| {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        db.scalar(&format!(
            "SELECT {} || ':' || md5('{}')",
            rows.len(),
            rows.join(",").replace('\'', "''")
        ))
    })
    .collect()
}

fn start(cfg: &str, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_barge"));
    cmd.args(["migrate", cfg])
        .env_remove("BARGE_SOURCE_DSN")
        .env_remove("BARGE_TARGET_DSN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start barge")
}

/// The phase the checkpoint file shows, if any.
fn phase(dir: &Path) -> Option<String> {
    let t = std::fs::read_to_string(dir.join("barge_checkpoint.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&t).ok()?;
    v["phase"].as_str().map(str::to_string)
}

/// Interrupt a run `after` its start; `None` when it finished first.
fn interrupt_after(cfg: &str, env: &[(&str, &str)], after: Duration) -> (Output, Option<String>) {
    let child = start(cfg, env);
    let dir = Path::new(cfg).parent().unwrap().to_path_buf();
    let deadline = Instant::now() + after;
    let mut child = child;
    loop {
        if child.try_wait().expect("poll").is_some() {
            return (child.wait_with_output().expect("output"), None);
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let at = phase(&dir);
    sigint(child.id());
    (child.wait_with_output().expect("output"), at)
}

const STEP_DELAY_MS: &str = "60";

#[test]
fn chaos_sigint_at_any_moment_ends_with_130_and_the_resume_finishes_exactly() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 5000\nworkers = 2");
    let cfg = cfg.to_str().unwrap();
    let env = [("BARGE_TEST_STEP_DELAY_MS", STEP_DELAY_MS)];
    let started = Instant::now();
    assert_ok(&barge_env(&["migrate", cfg], &env));
    let full = started.elapsed();
    let expected = sqlite_digests(&fx, &db);
    assert_eq!(pg_digests(&db), expected);

    const ATTEMPTS: u32 = 24;
    let mut interrupted = Vec::new();
    for k in 0..ATTEMPTS {
        // Spread over the whole run, from reading the source to the last ANALYZE.
        let after = full.mul_f64((f64::from(k) + 0.5) / f64::from(ATTEMPTS));
        let (o, at) = interrupt_after(cfg, &env, after);
        let out = text(&o);
        assert!(!out.contains("COPY file signature"), "{out}");
        if at.is_none() && o.status.code() == Some(0) {
            continue; // finished before the signal
        }
        assert_exit(&o, 130);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{out}");
        assert!(
            errors[0].starts_with("error: the migration was interrupted"),
            "{out}"
        );
        interrupted.push(format!("{after:?} {}", at.clone().unwrap_or_default()));
        if errors[0].contains("before it started") {
            continue;
        }
        let resumed = run_words(&printed_resume_command(&o), &env);
        let resumed_text = assert_ok(&resumed);
        assert!(resumed_text.contains("resumed run"), "{resumed_text}");
        assert_eq!(
            pg_digests(&db),
            expected,
            "after an interrupt at {after:?} ({at:?})"
        );
    }
    assert!(
        interrupted.len() >= 18,
        "only {} of {ATTEMPTS} runs were interrupted: {interrupted:?}",
        interrupted.len()
    );
    // The interrupts landed in the copy and in the post-load phases.
    let phases = interrupted.join("\n");
    assert!(phases.contains("copying data"), "{phases}");
    assert!(
        [
            "building keys and indexes",
            "adding foreign keys",
            "adding check constraints",
            "setting identity counters",
            "analyzing"
        ]
        .iter()
        .any(|p| phases.contains(p)),
        "{phases}"
    );
}

/// Wait until the run is in post-load (its copy committed), with a slow step delay.
fn wait_for_post_load(child: &mut Child, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the run ended early"
        );
        assert!(Instant::now() < deadline, "no post-load in time");
        if phase(dir).as_deref() == Some("building keys and indexes") {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_interrupt_in_post_load_stops_between_steps() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 20000\nworkers = 2");
    let cfg = cfg.to_str().unwrap();
    let env = [("BARGE_TEST_STEP_DELAY_MS", "300")];
    let mut child = start(cfg, &env);
    wait_for_post_load(&mut child, fx.path());
    sigint(child.id());
    let o = child.wait_with_output().expect("output");
    let out = assert_exit(&o, 130);
    assert!(
        out.contains("error: the migration was interrupted"),
        "{out}"
    );
    // Stopped between steps: some are left for the resume.
    let done: i64 = db
        .scalar(
            "SELECT count(*) FROM _barge.progress WHERE run_schema = 'app' AND item LIKE 'step %'",
        )
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        done < 12,
        "{done} steps done: the interrupt was ignored\n{out}"
    );
    let resumed = run_words(&printed_resume_command(&o), &[]);
    assert_ok(&resumed);
    assert_eq!(pg_digests(&db), sqlite_digests(&fx, &db));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'app' AND convalidated")
            .as_deref(),
        Some("6")
    );
}

#[test]
fn a_second_interrupt_aborts_at_once_saying_so() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "chunk_size = 20000\nworkers = 2");
    let cfg = cfg.to_str().unwrap();
    // Each step waits 3 s first: the first interrupt alone would end within that.
    let env = [("BARGE_TEST_STEP_DELAY_MS", "3000")];
    let mut child = start(cfg, &env);
    wait_for_post_load(&mut child, fx.path());
    sigint(child.id());
    std::thread::sleep(Duration::from_millis(200));
    let second = Instant::now();
    sigint(child.id());
    let o = child.wait_with_output().expect("output");
    let took = second.elapsed();
    let out = assert_exit(&o, 130);
    assert!(took < Duration::from_millis(1500), "took {took:?}: {out}");
    assert!(
        out.contains("error: second interrupt: aborting now"),
        "{out}"
    );
    assert!(!out.contains("COPY file signature"), "{out}");
    let resumed = run_words(&printed_resume_command(&o), &[]);
    assert_ok(&resumed);
    assert_eq!(pg_digests(&db), sqlite_digests(&fx, &db));
}

#[test]
fn post_load_reports_steps_done_of_total_in_plain_lines() {
    let fx = fixture();
    let db = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        "chunk_size = 20000\nworkers = 1\nindex_workers = 1",
    );
    let o = barge_env(
        &["migrate", cfg.to_str().unwrap()],
        &[("BARGE_TEST_STEP_DELAY_MS", "500")],
    );
    let out = assert_ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("] post-load: "))
        .collect();
    // Every 5 s while steps run, and at the end.
    assert!(lines.len() >= 2, "{out}");
    assert!(
        lines.iter().any(|l| l.contains("steps done; running: ")),
        "{out}"
    );
    let last = lines.last().unwrap();
    let counts = last
        .split("post-load: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap();
    let (done, total) = counts.split_once('/').unwrap();
    assert_eq!(done, total, "{out}");
    // 5 keys and indexes, 2 foreign keys added and validated, a check added and validated,
    // 2 identities, 3 ANALYZE.
    assert_eq!(total, "16", "{out}");
}

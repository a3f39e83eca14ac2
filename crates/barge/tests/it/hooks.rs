//! User SQL hooks: every point runs in order with `{{schema}}` replaced, statements split like
//! PostgreSQL does (dollar-quoted bodies, comments, strings), a failing statement is named by
//! file and line, and a resumed run never runs a statement twice.

use crate::support::{assert_ok, barge, text, Fixture, PgDb};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SOURCE: &str = "
    CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
      INSERT INTO parent SELECT i, 'p' || i FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
      INSERT INTO child SELECT i, i FROM n;
";

fn write_hooks(fx: &Fixture) {
    fx.write(
        "before.sql",
        "-- runs after the tables exist, before any row\n\
         CREATE TABLE {{schema}}.hook_log (seq serial, point text, n bigint);\n\
         INSERT INTO {{schema}}.hook_log (point, n) SELECT 'before_data', count(*) FROM {{schema}}.parent;\n",
    );
    fx.write(
        "after.sql",
        "INSERT INTO {{schema}}.hook_log (point, n) SELECT 'after_data', count(*) FROM {{schema}}.parent;\n\
         CREATE FUNCTION {{schema}}.twice(x int) RETURNS int LANGUAGE plpgsql AS $body$\n\
         BEGIN\n  -- a semicolon; inside the body\n  RETURN x * 2;\nEND;\n$body$;\n",
    );
    fx.write(
        "fk.sql",
        "INSERT INTO {{schema}}.hook_log (point, n)\n  SELECT 'before_fk', count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = '{{schema}}'::regnamespace;\n",
    );
    fx.write(
        "all.sql",
        "INSERT INTO {{schema}}.hook_log (point, n) SELECT 'after_all', count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = '{{schema}}'::regnamespace;\n\
         VACUUM {{schema}}.child; -- cannot run in a transaction block\n",
    );
}

const HOOKS: &str = "[hooks]\nbefore_data = [\"before.sql\"]\nafter_data = [\"after.sql\"]\nbefore_fk = [\"fk.sql\"]\nafter_all = [\"all.sql\"]";

#[test]
fn hooks_run_at_every_point_in_order() {
    let fx = Fixture::sqlite(SOURCE);
    write_hooks(&fx);
    let db = PgDb::new();
    let cfg = fx.config_toml(
        &db,
        &format!("schema = \"my app\"\non_schema_exists = \"recreate\"\n\n{HOOKS}"),
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    let log = db.query("SELECT point, n::text FROM \"my app\".hook_log ORDER BY seq");
    let log: Vec<(String, String)> = log
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(
        log,
        [
            ("before_data".to_string(), "0".to_string()),
            ("after_data".into(), "30000".into()),
            ("before_fk".into(), "0".into()),
            ("after_all".into(), "1".into()),
        ]
    );
    assert_eq!(
        db.scalar("SELECT \"my app\".twice(21)").as_deref(),
        Some("42")
    );
}

#[test]
fn a_failing_hook_statement_is_named_by_file_and_line() {
    let fx = Fixture::sqlite(SOURCE);
    fx.write(
        "bad.sql",
        "SELECT 1;\n\n-- the next one fails\nSELECT * FROM no_such_table;\n",
    );
    let db = PgDb::new();
    let cfg = fx.config_toml(
        &db,
        "schema = \"app\"\non_schema_exists = \"recreate\"\n\n[hooks]\nafter_data = [\"bad.sql\"]",
    );
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(
        out.contains("bad.sql` (after_data), line 4: relation \"no_such_table\" does not exist"),
        "{out}"
    );
    assert!(
        out.contains("statement: SELECT * FROM no_such_table"),
        "{out}"
    );
}

#[test]
fn missing_hook_file_stops_before_any_work() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config_toml(
        &db,
        "schema = \"app\"\n\n[hooks]\nafter_all = [\"nope.sql\"]",
    );
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("nope.sql") && out.contains("after_all"),
        "{out}"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'app'")
            .as_deref(),
        Some("0")
    );
}

/// Killed after the after_data hook ran, the resumed run does not run it again.
#[test]
fn chaos_hooks_do_not_run_twice_after_resume() {
    let fx = Fixture::sqlite(SOURCE);
    write_hooks(&fx);
    let db = PgDb::new();
    let cfg = fx.config_toml(&db, &format!("schema = \"app\"\n\n{HOOKS}"));
    let cfg = cfg.to_str().unwrap();
    // Slow post-load steps: the run sits in its index builds, after the after_data hook.
    let mut child = Command::new(env!("CARGO_BIN_EXE_barge"))
        .args(["migrate", cfg])
        .env("BARGE_TEST_STEP_DELAY_MS", "400")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start barge");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = db
            .query("SELECT count(*) FROM pg_tables WHERE schemaname = 'app' AND tablename = 'hook_log'")
            .first()
            .and_then(|r| r[0].clone());
        if seen.as_deref() == Some("1")
            && db
                .scalar("SELECT count(*) FROM app.hook_log WHERE point = 'after_data'")
                .as_deref()
                == Some("1")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached its after_data hook"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_ok(&barge(&["migrate", cfg, "--resume"]));
    let points: Vec<String> = db
        .query("SELECT point FROM app.hook_log ORDER BY seq")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(
        points,
        ["before_data", "after_data", "before_fk", "after_all"]
    );
}

/// barge's sessions (index builds among them) carry `maintenance_work_mem`: 256MB unless
/// configured, and the server's own value with `server`. The hook runs in such a session.
#[test]
fn sessions_carry_maintenance_work_mem() {
    let fx = Fixture::sqlite("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    fx.write(
        "mem.sql",
        "CREATE TABLE {{schema}}.mem AS SELECT current_setting('maintenance_work_mem') AS m;\n",
    );
    let db = PgDb::new();
    let server = db.scalar("SELECT current_setting('maintenance_work_mem')");
    for (line, expected) in [
        ("", Some("256MB".to_string())),
        ("maintenance_work_mem = \"96MB\"", Some("96MB".to_string())),
        ("maintenance_work_mem = \"server\"", server),
    ] {
        let cfg = fx.config_toml(
            &db,
            &format!("schema = \"m\"\non_schema_exists = \"recreate\"\n{line}\n\n[hooks]\nafter_all = [\"mem.sql\"]"),
        );
        assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
        assert_eq!(db.scalar("SELECT m FROM m.mem"), expected, "{line}");
    }
}

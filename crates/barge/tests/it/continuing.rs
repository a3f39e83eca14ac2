//! A resume continues the same run or nothing: failed and interrupted runs print the command
//! that continues them (run here literally), `--resume` after completion says so and
//! touches nothing, `--resume` with nothing to resume exits 5 and creates nothing, and a
//! refused resume names the option that changed.

use crate::support::{assert_exit, assert_ok, barge, text, Fixture, PgDb};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Split a line the way a POSIX shell splits words (single quotes only, as barge quotes).
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The resume command barge printed (the indented line after its hint), as words.
pub fn printed_resume_command(o: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&o.stderr);
    let line = stderr
        .lines()
        .skip_while(|l| !(l.starts_with("hint: run `") && l.ends_with("continues it:")))
        .nth(1)
        .unwrap_or_else(|| panic!("no resume command printed:\n{}", text(o)));
    assert!(line.starts_with("  "), "{line}");
    shell_words(line.trim())
}

/// Run `words` literally (program and arguments), with `env`.
pub fn run_words(words: &[String], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..])
        .env_remove("BARGE_SOURCE_DSN")
        .env_remove("BARGE_TARGET_DSN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the printed command")
}

/// A credentials file with the source (`src`), a target (`tgt`) and a tracking database
/// (`trk`).
fn credentials(fx: &Fixture, target: &PgDb, tracking: &PgDb) -> std::path::PathBuf {
    let pg = |db: &PgDb| {
        let (host, port, user) = db.server();
        format!(
            r#"{{ "ds_type": "postgres", "auth_mode": "classic", "info": {{ "username": "{user}", "password": "", "server": "{host}", "port": {port}, "database": "{}" }} }}"#,
            db.name
        )
    };
    fx.write(
        "creds.json",
        &format!(
            r#"{{ "src": {{ "ds_type": "sqlite", "auth_mode": "classic", "info": {{ "filepath": "source.sqlite" }} }},
                 "tgt": {},
                 "trk": {} }}"#,
            pg(target),
            pg(tracking)
        ),
    )
}

fn fix_source(fx: &Fixture, sql: &str) {
    rusqlite::Connection::open(&fx.sqlite)
        .and_then(|c| c.execute_batch(sql))
        .expect("change the source");
}

#[test]
fn a_failed_run_prints_the_command_that_continues_it_into_the_same_schema() {
    let fx = Fixture::sqlite(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER);
         INSERT INTO items VALUES (1, 5), (2, 'lots'), (3, 7);",
    );
    let target = PgDb::new();
    let tracking = PgDb::new();
    let creds = credentials(&fx, &target, &tracking);
    let creds = creds.to_str().unwrap();
    let o = barge(&[
        "migrate",
        "--auth",
        creds,
        "--source_db_auth_id",
        "src",
        "--target_db_auth_id",
        "tgt",
        "--target_schema_name",
        "sales app",
        "--migration_db_auth_id",
        "trk",
        "--migration_db_mode",
        "truncate",
        "--project",
        "cutover 1",
        "--workers",
        "1",
    ]);
    let out = assert_exit(&o, 4);
    let run = tracking
        .scalar("SELECT runid FROM runs")
        .expect("the run is recorded");
    assert!(
        out.contains(&format!("run `{run}` keeps everything it committed")),
        "{out}"
    );
    // A fix in the options is not a resume: the hint says so.
    assert!(out.contains("instead of `--resume`"), "{out}");
    let words = printed_resume_command(&o);
    let tail: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "migrate",
            "--auth",
            creds,
            "--source_db_auth_id",
            "src",
            "--target_db_auth_id",
            "tgt",
            "--target_schema_name",
            "sales app",
            "--migration_db_auth_id",
            "trk",
            "--project",
            "cutover 1",
            "--workers",
            "1",
            "--resume",
            run.as_str()
        ],
        "{out}"
    );
    fix_source(&fx, "UPDATE items SET qty = 6 WHERE id = 2");
    let resumed = run_words(&words, &[]);
    let resumed_text = assert_ok(&resumed);
    assert!(
        resumed_text.contains(&format!("resumed run {run}")),
        "{resumed_text}"
    );
    assert_eq!(
        target
            .scalar("SELECT sum(qty) FROM \"sales app\".items")
            .as_deref(),
        Some("18")
    );
    assert_eq!(
        tracking.query("SELECT runid, status, project FROM runs"),
        vec![vec![
            Some(run.clone()),
            Some("completed".into()),
            Some("cutover 1".into())
        ]]
    );
}

/// Start `args`, wait until `ready` holds, then interrupt it with SIGINT `after` later;
/// returns its output.
fn interrupt_when(
    args: &[&str],
    env: &[(&str, &str)],
    ready: impl Fn() -> bool,
    after: Duration,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_barge"));
    cmd.args(args)
        .env_remove("BARGE_SOURCE_DSN")
        .env_remove("BARGE_TARGET_DSN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start barge");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "the run never got ready to interrupt"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(after);
    sigint(child.id());
    child.wait_with_output().expect("wait for barge")
}

pub fn sigint(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT {pid}");
}

#[test]
fn an_interrupted_run_prints_the_command_that_continues_it_and_keeps_its_project() {
    let fx = Fixture::sqlite(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
           INSERT INTO items SELECT i, i % 97 FROM n;
         CREATE INDEX items_qty ON items (qty);",
    );
    let target = PgDb::new();
    let tracking = PgDb::new();
    let creds = credentials(&fx, &target, &tracking);
    let creds = creds.to_str().unwrap();
    let args = [
        "migrate",
        "--auth",
        creds,
        "--source_db_auth_id",
        "src",
        "--target_db_auth_id",
        "tgt",
        "--target_schema_name",
        "x",
        "--migration_db_auth_id",
        "trk",
        "--project",
        "P",
        "--chunk_size",
        "5000",
        "--workers",
        "1",
    ];
    // Interrupt once the schema exists (the run is recorded), while it copies.
    let o = interrupt_when(
        &args,
        &[],
        || target.schema_exists("x"),
        Duration::from_millis(50),
    );
    let out = assert_exit(&o, 130);
    let run = tracking
        .scalar("SELECT runid FROM runs")
        .expect("run recorded");
    assert!(
        out.contains(&format!("run `{run}` keeps everything committed so far")),
        "{out}"
    );
    let words = printed_resume_command(&o);
    assert_eq!(words.last(), Some(&run), "{out}");
    assert!(
        words.windows(2).any(|w| w == ["--target_schema_name", "x"]),
        "{out}"
    );
    assert!(words.windows(2).any(|w| w == ["--project", "P"]), "{out}");
    assert_eq!(
        tracking.scalar("SELECT status FROM runs").as_deref(),
        Some("interrupted")
    );
    // Another label is refused rather than relabelling the run silently.
    let relabelled: Vec<String> = words
        .iter()
        .map(|w| if w == "P" { "Q".to_string() } else { w.clone() })
        .collect();
    let refused = run_words(&relabelled, &[]);
    let refused_text = assert_exit(&refused, 4);
    assert!(
        refused_text.contains(&format!(
            "cannot resume run `{run}` under project `Q`: it was started under project `P`"
        )),
        "{refused_text}"
    );
    // The same command without --project keeps the label.
    let without: Vec<String> = {
        let mut w = Vec::new();
        let mut skip = false;
        for a in &words {
            if skip {
                skip = false;
                continue;
            }
            if a == "--project" {
                skip = true;
                continue;
            }
            w.push(a.clone());
        }
        w
    };
    let resumed = run_words(&without, &[]);
    assert_ok(&resumed);
    assert_eq!(
        target.scalar("SELECT count(*) FROM x.items").as_deref(),
        Some("60000")
    );
    assert_eq!(
        tracking.query("SELECT runid, status, project FROM runs"),
        vec![vec![Some(run), Some("completed".into()), Some("P".into())]]
    );
}

fn small_fixture() -> Fixture {
    Fixture::sqlite(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b');",
    )
}

#[test]
fn resume_after_completion_says_so_and_touches_nothing_even_under_recreate() {
    let fx = small_fixture();
    let db = PgDb::new();
    // `recreate`: a fresh run would drop and reload the schema.
    let cfg = fx.config(&db, "app", "");
    let cfg = cfg.to_str().unwrap();
    let first = barge(&["migrate", cfg, "--format", "json"]);
    assert_ok(&first);
    let summary: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let run = summary["run_id"].as_str().unwrap().to_string();
    // Marks a reload would wipe.
    db.execute("INSERT INTO app.t VALUES (99, 'mine'); CREATE TABLE app.extra (id int)");
    for args in [
        vec!["migrate", cfg, "--resume"],
        vec!["migrate", cfg, "--resume", &run],
    ] {
        let o = barge(&args);
        let out = assert_ok(&o);
        assert!(
            out.contains(&format!(
                "run `{run}` into schema `app` already completed at"
            )),
            "{out}"
        );
        assert!(out.contains("nothing changed"), "{out}");
        assert!(!out.contains("dropping"), "{out}");
    }
    // `resume = true` in the file means the same.
    let cfg2 = fx.config(&db, "app", "resume = true");
    let o = barge(&["migrate", cfg2.to_str().unwrap(), "--format", "json"]);
    assert_ok(&o);
    let json: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(json["status"], "already_complete", "{json}");
    assert_eq!(json["run_id"], run.as_str(), "{json}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.t").as_deref(),
        Some("3")
    );
    assert!(db.scalar("SELECT to_regclass('app.extra')::text").is_some());
}

#[test]
fn resume_with_nothing_to_resume_exits_5_and_creates_or_drops_nothing() {
    let fx = small_fixture();
    let db = PgDb::new();
    db.execute(
        "CREATE SCHEMA kept; CREATE TABLE kept.data (id int); INSERT INTO kept.data VALUES (1)",
    );
    for schema in ["fresh", "kept"] {
        // `recreate` would drop `kept` on a fresh start.
        let cfg = fx.config(&db, schema, "");
        let o = barge(&["migrate", cfg.to_str().unwrap(), "--resume"]);
        let out = assert_exit(&o, 5);
        assert!(
            out.contains(&format!(
                "nothing to resume: no interrupted run is recorded for schema `{schema}`"
            )),
            "{out}"
        );
        assert!(
            out.contains("looked in the ledger `_barge.progress`"),
            "{out}"
        );
        let o = barge(&[
            "migrate",
            cfg.to_str().unwrap(),
            "--resume",
            "20000101-000000-beef",
        ]);
        let out = assert_exit(&o, 5);
        assert!(out.contains("no run `20000101-000000-beef`"), "{out}");
    }
    assert!(!db.schema_exists("fresh"));
    assert!(!db.schema_exists("_barge"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM kept.data").as_deref(),
        Some("1")
    );
    // JSON callers get the same as an object on stdout.
    let cfg = fx.config(&db, "fresh", "");
    let o = barge(&[
        "migrate",
        cfg.to_str().unwrap(),
        "--resume",
        "--format",
        "json",
    ]);
    assert_exit(&o, 5);
    let json: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(json["status"], "nothing_to_resume", "{json}");
    assert_eq!(json["exit_code"], 5, "{json}");
}

#[test]
fn a_refused_resume_names_the_option_that_changed() {
    let fx = Fixture::sqlite(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER);
         INSERT INTO items VALUES (1, 5), (2, 'lots'), (3, 7);",
    );
    let db = PgDb::new();
    let cfg = fx.config_toml(&db, "schema = \"app\"\nworkers = 1");
    let cfg = cfg.to_str().unwrap();
    let o = barge(&["migrate", cfg]);
    assert_exit(&o, 4);
    let words = printed_resume_command(&o);
    // The lossy fix is an option: a resume with it is refused, naming it and its values.
    fx.config_toml(
        &db,
        "schema = \"app\"\nworkers = 1\non_invalid_value = \"null\"",
    );
    let refused = run_words(&words, &[]);
    let out = assert_exit(&refused, 4);
    assert!(
        out.contains("option changed: `on_invalid_value` `error` -> `null`"),
        "{out}"
    );
    assert!(!out.contains("source schema changed"), "{out}");
    assert!(out.contains("`--restart` instead of `--resume`"), "{out}");
    // And --restart does what it says.
    let o = barge(&["migrate", cfg, "--restart"]);
    assert_ok(&o);
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.items WHERE qty IS NULL")
            .as_deref(),
        Some("1")
    );
}

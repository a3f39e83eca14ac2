//! The migration tracking database, end to end: barge runs as a user runs it, with the
//! tracking database named by a credentials entry (the README's example entry, `$env{}`
//! and all), then the tracking tables are queried with portable SQL.
//!
//! Every test body runs against PostgreSQL (always) and against SQL Server when
//! `BARGE_TEST_MSSQL_URL` is set (`mssql://USER:PASSWORD@HOST:PORT`); without it the SQL
//! Server variants print `SKIPPED: ...` and return, the one allowed skip.

use crate::support::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

const PG_TRACKING_PASSWORD: &str = "tracking-Secret-77";
const TARGET_PASSWORD: &str = "target-Secret-88";

/// A fresh tracking database on one backend.
enum Tracking {
    Pg(PgDb),
    Mssql(mssql::MssqlDb),
}

impl Tracking {
    fn postgres() -> Tracking {
        Tracking::Pg(PgDb::new())
    }

    // The one allowed skip must say so in the test output.
    #[allow(clippy::print_stdout)]
    fn mssql(test: &str) -> Option<Tracking> {
        match std::env::var("BARGE_TEST_MSSQL_URL") {
            Ok(url) if !url.trim().is_empty() => Some(Tracking::Mssql(mssql::MssqlDb::new(&url))),
            _ => {
                println!("SKIPPED: {test}: set BARGE_TEST_MSSQL_URL=mssql://USER:PASSWORD@HOST:PORT to run the SQL Server tracking suite");
                None
            }
        }
    }

    /// `(ds_type, server, port, user, password, database)`.
    fn login(&self) -> (&'static str, String, u16, String, String, String) {
        match self {
            Tracking::Pg(db) => {
                let (host, port, user) = db.server();
                // The test server trusts local logins; the password only has to stay secret.
                let password = PG_TRACKING_PASSWORD.to_string();
                ("postgres", host, port, user, password, db.name.clone())
            }
            Tracking::Mssql(db) => (
                "mssql",
                db.host.clone(),
                db.port,
                db.user.clone(),
                db.password.clone(),
                db.name.clone(),
            ),
        }
    }

    /// Write the credentials file: the README's example entry, pointed at this database,
    /// with the login in `MIG_USER` / `MIG_PASSWORD`. Returns the file and the environment.
    fn credentials(&self, fx: &Fixture) -> (PathBuf, Vec<(&'static str, String)>) {
        let (ds_type, host, port, user, password, database) = self.login();
        self.credentials_for(fx, ds_type, &host, port, &database, user, password)
    }

    #[allow(clippy::too_many_arguments)]
    fn credentials_for(
        &self,
        fx: &Fixture,
        ds_type: &str,
        host: &str,
        port: u16,
        database: &str,
        user: String,
        password: String,
    ) -> (PathBuf, Vec<(&'static str, String)>) {
        let text = format!(
            r#"{{ "migration_tracking": {{ "ds_type": "{ds_type}", "auth_mode": "classic",
    "info": {{ "username": "$env{{MIG_USER}}", "password": "$env{{MIG_PASSWORD}}",
              "server": "{host}", "port": {port}, "database": "{database}" }} }} }}"#
        );
        let path = fx.write("creds.json", &text);
        (path, vec![("MIG_USER", user), ("MIG_PASSWORD", password)])
    }

    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self {
            Tracking::Pg(db) => db.query(sql),
            Tracking::Mssql(db) => db.query(sql),
        }
    }

    fn scalar(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    fn execute(&self, sql: &str) {
        match self {
            Tracking::Pg(db) => db.execute(sql),
            Tracking::Mssql(db) => db.execute(sql),
        }
    }

    fn column_exists(&self, table: &str, column: &str) -> bool {
        self.scalar(&format!(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = '{table}' AND column_name = '{column}'"
        ))
        .as_deref()
            == Some("1")
    }

    /// `ALTER TABLE t ADD c int` in this backend's spelling.
    fn add_int_column(&self, table: &str, column: &str) {
        match self {
            Tracking::Pg(_) => {
                self.execute(&format!("ALTER TABLE {table} ADD COLUMN {column} int"))
            }
            Tracking::Mssql(_) => self.execute(&format!("ALTER TABLE {table} ADD {column} int")),
        }
    }
}

/// Two tables, `customers` (3 rows) and `orders` (4 rows, one of them with an
/// unconvertible `qty` when `broken`).
fn fixture(broken: bool) -> Fixture {
    let bad = if broken { "'lots-of-it'" } else { "9" };
    Fixture::sqlite(&format!(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cy');
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                              qty INTEGER);
         CREATE INDEX orders_customer ON orders (customer_id);
         INSERT INTO orders VALUES (1, 1, 5), (2, 2, 6), (3, 3, {bad}), (4, 1, 8);"
    ))
}

/// `barge migrate CONFIG --auth CREDS --migration_db_auth_id migration_tracking EXTRA...`.
fn migrate(
    t: &Tracking,
    fx: &Fixture,
    target: &PgDb,
    schema: &str,
    extra: &[&str],
) -> std::process::Output {
    let cfg = fx.config(target, schema, "workers = 1");
    migrate_cfg(t, fx, &cfg, extra)
}

fn migrate_cfg(
    t: &Tracking,
    fx: &Fixture,
    cfg: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let (creds, env) = t.credentials(fx);
    let mut args = vec![
        "migrate",
        cfg.to_str().expect("utf-8 path"),
        "--auth",
        creds.to_str().expect("utf-8 path"),
        "--migration_db_auth_id",
        "migration_tracking",
    ];
    args.extend_from_slice(extra);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    barge_env(&args, &env)
}

/// Two-column query rows, as `Tracking::query` returns them.
fn pairs(rows: &[(&str, &str)]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|(a, b)| vec![Some(a.to_string()), Some(b.to_string())])
        .collect()
}

fn only_run_id(t: &Tracking) -> String {
    let rows = t.query("SELECT runid FROM runs");
    assert_eq!(rows.len(), 1, "expected one run, got {rows:?}");
    rows[0][0].clone().expect("run id")
}

fn schema_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Done when: after a run in which one table fails, the README's query returns that table.
fn failed_table_in_eventlog(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(true);
    let out = migrate(&t, &fx, &target, "app", &[]);
    let text = assert_exit(&out, 4);
    assert!(text.contains("lots-of-it"), "{text}");
    let run = only_run_id(&t);
    assert!(
        run.len() > 16 && run.as_bytes()[8] == b'-' && run.as_bytes()[15] == b'-',
        "run id `{run}` is not YYYYMMDD-HHMMSS-<random>"
    );
    let failed = t.query(&format!(
        "SELECT src_tablename, eventmessage, eventtimestamp FROM eventlog
WHERE eventrunid = '{run}' AND eventstatus = 'failed' ORDER BY eventtimestamp DESC;"
    ));
    assert!(!failed.is_empty(), "no failed event recorded");
    assert_eq!(failed[0][0].as_deref(), Some("orders"), "{failed:?}");
    assert!(
        failed[0][1]
            .as_deref()
            .unwrap_or_default()
            .contains("lots-of-it"),
        "{failed:?}"
    );
    assert_eq!(
        t.scalar(&format!("SELECT status FROM runs WHERE runid = '{run}'"))
            .as_deref(),
        Some("failed")
    );
    assert_eq!(
        t.scalar(&format!(
            "SELECT status FROM sourcetargetloads WHERE runid = '{run}' AND tablename = 'orders' AND task = 'transfer'"
        ))
        .as_deref(),
        Some("failed")
    );
    assert!(t
        .scalar(&format!(
            "SELECT errormessage FROM sourcetargetloads WHERE runid = '{run}' AND tablename = 'orders' AND task = 'transfer'"
        ))
        .unwrap_or_default()
        .contains("lots-of-it"));
}

/// Done when: `--resume RUN_ID` finishes the run; the tracking rows show one run with every
/// table completed, and counts that include the rows loaded before the interruption.
fn resume_run_id_finishes_the_run(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(true);
    assert_exit(&migrate(&t, &fx, &target, "app", &[]), 4);
    let run = only_run_id(&t);
    // The cause is fixed in the source (same schema, so the run can continue).
    rusqlite::Connection::open(&fx.sqlite)
        .and_then(|c| c.execute("UPDATE orders SET qty = 7 WHERE id = 3", []))
        .expect("fix the source row");
    // A wrong id is refused, naming it.
    let wrong = migrate(
        &t,
        &fx,
        &target,
        "app",
        &["--resume", "20000101-000000-dead"],
    );
    // Nothing to resume under that id: exit 5, naming it and the run that can continue.
    let wrong_text = assert_exit(&wrong, 5);
    assert!(wrong_text.contains("20000101-000000-dead"), "{wrong_text}");
    assert!(wrong_text.contains(&run), "{wrong_text}");

    let out = migrate(&t, &fx, &target, "app", &["--resume", &run]);
    let text = assert_ok(&out);
    assert!(
        text.contains(&run),
        "the summary names the resumed run: {text}"
    );
    assert_eq!(only_run_id(&t), run);
    assert_eq!(
        t.scalar("SELECT status FROM runs").as_deref(),
        Some("completed")
    );
    assert!(t.scalar("SELECT endtime FROM runs").is_some());
    let open = t.query(&format!(
        "SELECT tablename, task, status FROM sourcetargetloads WHERE runid = '{run}' AND status NOT IN ('completed', 'skipped')"
    ));
    assert!(open.is_empty(), "tasks left open: {open:?}");
    for table in ["customers", "orders"] {
        for task in ["create", "transfer", "validate", "pk"] {
            assert_eq!(
                t.scalar(&format!(
                    "SELECT status FROM sourcetargetloads WHERE runid = '{run}' AND tablename = '{table}' AND task = '{task}'"
                ))
                .as_deref(),
                Some("completed"),
                "{table}/{task}"
            );
        }
    }
    for (task, table) in [("indexes", "orders"), ("fk", "orders")] {
        assert_eq!(
            t.scalar(&format!(
                "SELECT status FROM sourcetargetloads WHERE runid = '{run}' AND tablename = '{table}' AND task = '{task}'"
            ))
            .as_deref(),
            Some("completed"),
            "{table}/{task}"
        );
    }
    assert_eq!(
        t.scalar(&format!(
            "SELECT tablerows FROM targets WHERE runid = '{run}' AND tablename = 'orders'"
        ))
        .as_deref(),
        Some("4")
    );
    assert_eq!(
        target
            .scalar("SELECT qty FROM app.orders WHERE id = 3")
            .as_deref(),
        Some("7")
    );
    let constraints = t.query(&format!(
        "SELECT constrainttype, status FROM sourceconstraints WHERE runid = '{run}' AND tablename = 'orders' ORDER BY constrainttype"
    ));
    let kinds: Vec<_> = constraints
        .iter()
        .map(|r| {
            (
                r[0].clone().unwrap_or_default(),
                r[1].clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("foreign_key".to_string(), "completed".to_string()),
            ("index".to_string(), "completed".to_string()),
            ("primary_key".to_string(), "completed".to_string())
        ]
    );
}

/// `--resume` alone continues the newest unfinished run of the same source and target;
/// a resume under a mode that deletes history is refused before anything is deleted.
fn resume_alone_continues_the_latest_unfinished_run(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(true);
    assert_exit(&migrate(&t, &fx, &target, "app", &[]), 4);
    let run = only_run_id(&t);
    let refused = migrate(
        &t,
        &fx,
        &target,
        "app",
        &["--resume", &run, "--migration_db_mode", "truncate"],
    );
    let refused_text = assert_exit(&refused, 4);
    assert!(refused_text.contains("preserve"), "{refused_text}");
    assert_eq!(only_run_id(&t), run, "nothing was deleted");
    rusqlite::Connection::open(&fx.sqlite)
        .and_then(|c| c.execute("UPDATE orders SET qty = 7 WHERE id = 3", []))
        .expect("fix the source row");
    assert_ok(&migrate(&t, &fx, &target, "app", &["--resume"]));
    assert_eq!(only_run_id(&t), run);
    assert_eq!(
        t.scalar("SELECT status FROM runs").as_deref(),
        Some("completed")
    );
    // The run is finished: resuming it again says so, names it and changes nothing.
    let again = migrate(&t, &fx, &target, "app", &["--resume", &run]);
    let again_text = assert_exit(&again, 0);
    assert!(
        again_text.contains(&format!(
            "run `{run}` into schema `app` already completed at"
        )),
        "{again_text}"
    );
    assert_eq!(only_run_id(&t), run);
    assert_eq!(
        t.scalar("SELECT status FROM runs").as_deref(),
        Some("completed")
    );
}

/// A run killed at an arbitrary point of its post-load (SIGKILL: it cannot record anything)
/// stays `running`; `--resume` continues it and the rows end true: one run, completed,
/// with the rows copied before the kill counted.
fn killed_run_resumes_with_true_counts(t: Tracking) {
    let target = PgDb::new();
    let fx = Fixture::sqlite(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), v TEXT);
         CREATE INDEX child_v ON child (v);
         CREATE INDEX child_parent ON child (parent_id);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO parent SELECT i, 'p' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
         INSERT INTO child SELECT i, 1 + i % 5000, 'c' || i FROM n;",
    );
    let cfg = fx.config(&target, "app", "workers = 1\nchunk_size = 2000");
    let (creds, env) = t.credentials(&fx);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_barge"))
        .args([
            "migrate",
            cfg.to_str().expect("utf-8 path"),
            "--auth",
            creds.to_str().expect("utf-8 path"),
            "--migration_db_auth_id",
            "migration_tracking",
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        // Every post-load step waits, so the kill lands while keys and indexes are built.
        .env("BARGE_TEST_STEP_DELAY_MS", "400")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start barge");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let ready = t.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sourcetargetloads'",
        );
        let copied = if ready.as_deref() == Some("1") {
            t.scalar("SELECT count(*) FROM sourcetargetloads WHERE task = 'transfer' AND status = 'completed'")
        } else {
            None
        };
        if copied.as_deref() == Some("2") {
            break;
        }
        assert!(
            child.try_wait().expect("poll barge").is_none(),
            "barge ended before the kill"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the copy did not finish in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("kill barge");
    let _ = child.wait();
    let run = only_run_id(&t);
    assert_eq!(
        t.scalar("SELECT status FROM runs").as_deref(),
        Some("running")
    );

    assert_ok(&migrate_cfg(&t, &fx, &cfg, &["--resume"]));
    assert_eq!(only_run_id(&t), run);
    assert_eq!(
        t.scalar("SELECT status FROM runs").as_deref(),
        Some("completed")
    );
    let open = t.query(
        "SELECT tablename, task, status FROM sourcetargetloads WHERE status NOT IN ('completed', 'skipped')",
    );
    assert!(open.is_empty(), "tasks left open: {open:?}");
    assert_eq!(
        t.scalar("SELECT rowswritten FROM sourcetargetloads WHERE tablename = 'child' AND task = 'transfer'")
            .as_deref(),
        Some("12000")
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM v_sourcetargetdiff WHERE difference = 0 AND sourcerows > 0")
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM sourceconstraints WHERE status = 'completed'")
            .as_deref(),
        Some("5"),
        "2 primary keys, 2 indexes, 1 foreign key"
    );
    assert_eq!(
        target.scalar("SELECT count(*) FROM app.child").as_deref(),
        Some("12000")
    );
}

/// A foreign key that cannot be validated: its constraint row says failed, with the error,
/// and the failure is blamed on the `fk` task, not on the copy.
fn failed_constraint_is_recorded(t: Tracking) {
    let target = PgDb::new();
    let fx = Fixture::sqlite(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO customers VALUES (1, 'ann');
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
         INSERT INTO orders VALUES (1, 1), (2, 99);",
    );
    let cfg = fx.config(&target, "app", "workers = 1\nclean_orphans = false");
    let out = migrate_cfg(&t, &fx, &cfg, &[]);
    assert_exit(&out, 4);
    let run = only_run_id(&t);
    let fk = t.query(&format!(
        "SELECT status, errormessage, referencedtable FROM sourceconstraints WHERE runid = '{run}' AND constrainttype = 'foreign_key'"
    ));
    assert_eq!(fk.len(), 1, "{fk:?}");
    assert_eq!(fk[0][0].as_deref(), Some("failed"), "{fk:?}");
    assert!(fk[0][1].is_some(), "{fk:?}");
    assert_eq!(fk[0][2].as_deref(), Some("customers"));
    let tasks = t.query(&format!(
        "SELECT task, status FROM sourcetargetloads WHERE runid = '{run}' AND tablename = 'orders' AND task IN ('transfer', 'fk') ORDER BY task"
    ));
    assert_eq!(tasks, pairs(&[("fk", "failed"), ("transfer", "completed")]));
    assert_eq!(
        t.scalar(&format!(
            "SELECT src_tablename FROM eventlog WHERE eventrunid = '{run}' AND eventstatus = 'failed'"
        ))
        .as_deref(),
        Some("orders")
    );
}

/// Done when: each mode behaves as stated (preserve keeps history, truncate clears data and
/// keeps the schema, drop recreates the objects).
fn modes(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(false);
    assert_ok(&migrate(&t, &fx, &target, "app", &[]));
    assert_ok(&migrate(
        &t,
        &fx,
        &target,
        "app",
        &["--migration_db_mode", "preserve"],
    ));
    assert_eq!(t.scalar("SELECT count(*) FROM runs").as_deref(), Some("2"));
    let per_run = t.query("SELECT count(*) FROM sources GROUP BY runid");
    assert_eq!(per_run.len(), 2, "{per_run:?}");

    // A column that is not barge's shows whether the table was kept or recreated.
    t.add_int_column("runs", "marker");
    assert_ok(&migrate(
        &t,
        &fx,
        &target,
        "app",
        &["--migration_db_mode", "truncate"],
    ));
    assert_eq!(t.scalar("SELECT count(*) FROM runs").as_deref(), Some("1"));
    assert_eq!(
        t.scalar("SELECT count(DISTINCT eventrunid) FROM eventlog")
            .as_deref(),
        Some("1")
    );
    assert!(
        t.column_exists("runs", "marker"),
        "truncate must keep the tables"
    );
    let kept = only_run_id(&t);

    assert_ok(&migrate(
        &t,
        &fx,
        &target,
        "app",
        &["--migration_db_mode", "drop"],
    ));
    assert!(
        !t.column_exists("runs", "marker"),
        "drop must recreate the tables"
    );
    let after = only_run_id(&t);
    assert_ne!(after, kept);
    assert_eq!(
        t.scalar(&format!(
            "SELECT count(*) FROM sources WHERE runid = '{after}'"
        ))
        .as_deref(),
        Some("2")
    );
}

/// Done when: an older tracking schema (missing a column) is upgraded in place.
fn upgrades_older_schema(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(false);
    assert_ok(&migrate(&t, &fx, &target, "app", &[]));
    let old = only_run_id(&t);
    // What an older barge left: no `project` column, no `duration` column, no view.
    t.execute("DROP VIEW v_sourcetargetdiff");
    t.execute("ALTER TABLE runs DROP COLUMN project");
    t.execute("ALTER TABLE sourcetargetloads DROP COLUMN duration");
    assert!(!t.column_exists("runs", "project"));

    assert_ok(&migrate(
        &t,
        &fx,
        &target,
        "app",
        &["--project", "cutover-rehearsal"],
    ));
    assert!(t.column_exists("runs", "project"));
    assert!(t.column_exists("sourcetargetloads", "duration"));
    assert_eq!(t.scalar("SELECT count(*) FROM runs").as_deref(), Some("2"));
    assert_eq!(
        t.scalar(&format!(
            "SELECT count(*) FROM runs WHERE runid = '{old}' AND project IS NULL"
        ))
        .as_deref(),
        Some("1"),
        "the older run's row is kept"
    );
    assert_eq!(
        t.scalar(&format!("SELECT project FROM runs WHERE runid <> '{old}'"))
            .as_deref(),
        Some("cutover-rehearsal")
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM sourcetargetloads WHERE duration IS NOT NULL AND task = 'transfer'")
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        t.scalar(&format!(
            "SELECT count(*) FROM v_sourcetargetdiff WHERE runid <> '{old}'"
        ))
        .as_deref(),
        Some("2")
    );
}

/// Done when: `v_sourcetargetdiff` shows zero difference after a clean run; and no
/// password reaches the tracking rows or the output.
fn clean_run_has_no_difference(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(false);
    // A target DSN with a password (the test server trusts local logins and ignores it).
    let url = target
        .url
        .replacen("://", &format!("://postgres:{TARGET_PASSWORD}@"), 1);
    let url = if target.url.contains('@') {
        target.url.replacen('@', &format!(":{TARGET_PASSWORD}@"), 1)
    } else {
        url
    };
    let cfg = fx.write(
        "migration.toml",
        &format!(
            "schema = \"app\"\nworkers = 1\n\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n\n[target]\ndsn = \"{url}\"\n"
        ),
    );
    let out = migrate_cfg(&t, &fx, &cfg, &["--project", "demo"]);
    let text = assert_ok(&out);
    let run = only_run_id(&t);
    assert!(
        text.contains(&format!("run {run}")),
        "the summary names the run: {text}"
    );
    let diff = t.query(&format!(
        "SELECT tablename, sourcerows, targetrows, difference, diffstatus FROM v_sourcetargetdiff WHERE runid = '{run}' ORDER BY tablename"
    ));
    let expected = |name: &str, n: &str| {
        vec![
            Some(name.to_string()),
            Some(n.to_string()),
            Some(n.to_string()),
            Some("0".to_string()),
            Some("ok".to_string()),
        ]
    };
    assert_eq!(
        diff,
        vec![expected("customers", "3"), expected("orders", "4")]
    );
    assert_eq!(
        t.scalar(&format!("SELECT status FROM runs WHERE runid = '{run}'"))
            .as_deref(),
        Some("completed")
    );
    assert_eq!(
        t.scalar(&format!(
            "SELECT count(*) FROM sourcecolumns WHERE runid = '{run}' AND tablename = 'orders'"
        ))
        .as_deref(),
        Some("3")
    );
    assert_eq!(
        t.scalar(&format!(
            "SELECT targetcolumnname FROM sourcecolumns WHERE runid = '{run}' AND tablename = 'orders' AND columnname = 'customer_id'"
        ))
        .as_deref(),
        Some("customer_id")
    );
    let target_desc = t
        .scalar(&format!(
            "SELECT targetdescription FROM runs WHERE runid = '{run}'"
        ))
        .unwrap_or_default();
    assert!(target_desc.contains(&target.name), "{target_desc}");
    let (_, _, _, _, tracking_password, _) = t.login();
    for secret in [tracking_password.as_str(), TARGET_PASSWORD] {
        assert!(
            !text.contains(secret),
            "a password reached the output: {text}"
        );
        let leaks = t.scalar(&format!(
            "SELECT count(*) FROM runs WHERE sourcedescription LIKE '%{secret}%' OR targetdescription LIKE '%{secret}%' OR commandline LIKE '%{secret}%'"
        ));
        assert_eq!(
            leaks.as_deref(),
            Some("0"),
            "a password reached the runs table"
        );
        let leaks = t.scalar(&format!(
            "SELECT count(*) FROM eventlog WHERE eventmessage LIKE '%{secret}%' OR eventdetails LIKE '%{secret}%'"
        ));
        assert_eq!(
            leaks.as_deref(),
            Some("0"),
            "a password reached the event log"
        );
    }
}

/// Done when: two concurrent runs (two target schemas, one tracking database) keep
/// separate records.
fn concurrent_runs_keep_separate_records(t: Tracking) {
    let target = PgDb::new();
    let fx_a = Fixture::sqlite(
        "CREATE TABLE alpha (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO alpha SELECT i, 'a' || i FROM n;",
    );
    let fx_b = Fixture::sqlite(
        "CREATE TABLE beta (id INTEGER PRIMARY KEY, v TEXT);
         CREATE TABLE gamma (id INTEGER PRIMARY KEY);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO beta SELECT i, 'b' || i FROM n;
         INSERT INTO gamma VALUES (1), (2);",
    );
    let (schema_a, schema_b) = (schema_name("track_a"), schema_name("track_b"));
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| migrate(&t, &fx_a, &target, &schema_a, &[]));
        let b = s.spawn(|| migrate(&t, &fx_b, &target, &schema_b, &[]));
        (a.join().expect("run a"), b.join().expect("run b"))
    });
    assert_ok(&a);
    assert_ok(&b);
    let runs = t.query("SELECT runid, targetschema FROM runs ORDER BY targetschema");
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_ne!(runs[0][0], runs[1][0]);
    let run_a = runs[0][0].clone().expect("run id");
    let run_b = runs[1][0].clone().expect("run id");
    assert_eq!(runs[0][1].as_deref(), Some(schema_a.as_str()));
    let tables = |run: &str| -> Vec<String> {
        t.query(&format!(
            "SELECT tablename FROM sources WHERE runid = '{run}' ORDER BY tablename"
        ))
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
    };
    assert_eq!(tables(&run_a), ["alpha"]);
    assert_eq!(tables(&run_b), ["beta", "gamma"]);
    let loads = |run: &str| {
        t.query(&format!(
            "SELECT DISTINCT tablename FROM sourcetargetloads WHERE runid = '{run}' ORDER BY tablename"
        ))
        .len()
    };
    assert_eq!((loads(&run_a), loads(&run_b)), (1, 2));
    assert_eq!(
        t.scalar(&format!(
            "SELECT sum(sourcerows) FROM sourcetargetdiff WHERE runid = '{run_b}'"
        ))
        .as_deref(),
        Some("2002")
    );
    assert_eq!(
        t.scalar(&format!(
            "SELECT count(*) FROM eventlog WHERE eventrunid = '{run_a}' AND (src_tablename = 'beta' OR src_tablename = 'gamma')"
        ))
        .as_deref(),
        Some("0")
    );
}

/// Done when: a user without rights gets the GRANT message (and the target is untouched).
fn missing_rights_name_the_grant(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(false);
    let role = format!(
        "barge_it_track_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let password = "Tr4ck-only-pw!";
    let (ds_type, host, port, _, _, database) = t.login();
    match &t {
        Tracking::Pg(db) => {
            db.execute(&format!(
                "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{password}'"
            ));
        }
        Tracking::Mssql(db) => db.create_login_without_rights(&role, password),
    }
    let cfg = fx.config(&target, "app", "workers = 1");
    let (creds, env) = t.credentials_for(
        &fx,
        ds_type,
        &host,
        port,
        &database,
        role.clone(),
        password.to_string(),
    );
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = barge_env(
        &[
            "migrate",
            cfg.to_str().expect("utf-8 path"),
            "--auth",
            creds.to_str().expect("utf-8 path"),
            "--migration_db_auth_id",
            "migration_tracking",
        ],
        &env,
    );
    let text = text(&out);
    match &t {
        Tracking::Pg(db) => {
            db.execute(&format!("DROP ROLE IF EXISTS {role}"));
            assert_eq!(out.status.code(), Some(4), "{text}");
            assert!(
                text.contains(&format!(
                    "GRANT CREATE ON DATABASE \"{}\" TO \"{role}\"",
                    db.name
                )),
                "{text}"
            );
            assert!(
                text.contains(&format!("GRANT ALL ON SCHEMA public TO \"{role}\"")),
                "{text}"
            );
            assert!(text.contains("OWNER TO"), "{text}");
        }
        Tracking::Mssql(db) => {
            db.drop_login(&role);
            assert_eq!(out.status.code(), Some(4), "{text}");
            assert!(text.contains("GRANT CREATE TABLE"), "{text}");
            assert!(text.contains("ON SCHEMA::dbo"), "{text}");
        }
    }
    assert!(!text.contains(password), "the password leaked: {text}");
    assert!(
        !target.schema_exists("app"),
        "nothing may be migrated without tracking"
    );
}

/// Done when: under `validation = "checksum"`, `sourcetargetdiff.checksumresult` says
/// `match` or `mismatch` per table, and the event log names the differing row.
fn checksum_result_is_recorded(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(false);
    // An after_data hook changes one value behind barge's back.
    fx.write(
        "tamper.sql",
        "UPDATE {{schema}}.orders SET qty = 60 WHERE id = 2;",
    );
    let cfg = fx.config_toml(
        &target,
        "schema = \"app\"\nworkers = 1\nvalidation = \"checksum\"\n\n[hooks]\nafter_data = [\"tamper.sql\"]",
    );
    let out = migrate_cfg(&t, &fx, &cfg, &[]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    let run = only_run_id(&t);
    assert_eq!(
        t.query(&format!(
            "SELECT tablename, checksumresult FROM sourcetargetdiff WHERE runid = '{run}' ORDER BY tablename"
        )),
        pairs(&[("customers", "match"), ("orders", "mismatch")])
    );
    let events = t.query(&format!(
        "SELECT eventmessage, eventdetails FROM eventlog WHERE eventrunid = '{run}' AND src_tablename = 'orders' AND eventlevel = 'error'"
    ));
    assert!(
        events.iter().any(|e| {
            e[0].as_deref()
                .is_some_and(|m| m.contains("differ in content"))
                && e[1]
                    .as_deref()
                    .is_some_and(|d| d.contains("changed (id) = (2) qty: 6 -> 60"))
        }),
        "{events:?}"
    );
}

/// Done when: a standalone `barge validate` with a tracking database is a run of its own
/// there, with its checksum results in `sourcetargetdiff` and its tasks settled.
fn standalone_validate_is_recorded(t: Tracking) {
    let target = PgDb::new();
    let fx = fixture(false);
    let cfg = fx.config_toml(&target, "schema = \"app\"\nworkers = 1");
    let out = migrate_cfg(&t, &fx, &cfg, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let migration = only_run_id(&t);
    target.execute("UPDATE app.orders SET qty = 60 WHERE id = 2");
    let (creds, env) = t.credentials(&fx);
    let args = [
        "validate",
        cfg.to_str().expect("utf-8 path"),
        "--validation",
        "checksum",
        "--auth",
        creds.to_str().expect("utf-8 path"),
        "--migration_db_auth_id",
        "migration_tracking",
        "--project",
        "nightly-check",
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = barge_env(&args, &env);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let runs = t.query(&format!(
        "SELECT runid, status, project FROM runs WHERE runid <> '{migration}'"
    ));
    assert_eq!(runs.len(), 1, "one validation run: {runs:?}");
    let run = runs[0][0].clone().expect("run id");
    assert_eq!(runs[0][1].as_deref(), Some("completed"), "{runs:?}");
    assert_eq!(runs[0][2].as_deref(), Some("nightly-check"), "{runs:?}");
    assert_eq!(
        t.query(&format!(
            "SELECT tablename, checksumresult FROM sourcetargetdiff WHERE runid = '{run}' ORDER BY tablename"
        )),
        pairs(&[("customers", "match"), ("orders", "mismatch")])
    );
    // Nothing of the validation run is left pending: what it does not do is skipped.
    for table in ["sourcetargetloads", "sourceconstraints"] {
        let pending = t.query(&format!(
            "SELECT count(*) FROM {table} WHERE runid = '{run}' AND status IN ('pending', 'running')"
        ));
        assert_eq!(pending, vec![vec![Some("0".to_string())]], "{table}");
    }
    let validated = t.query(&format!(
        "SELECT tablename, status FROM sourcetargetloads WHERE runid = '{run}' AND task = 'validate' ORDER BY tablename"
    ));
    assert_eq!(
        validated,
        pairs(&[("customers", "completed"), ("orders", "failed")])
    );
}

macro_rules! both_backends {
    ($($body:ident => $pg:ident, $ms:ident;)+) => {
        $(
            #[test]
            fn $pg() {
                $body(Tracking::postgres());
            }

            #[test]
            fn $ms() {
                if let Some(t) = Tracking::mssql(stringify!($ms)) {
                    $body(t);
                }
            }
        )+
    };
}

both_backends! {
    failed_table_in_eventlog => tracking_pg_failed_table_in_eventlog, tracking_mssql_failed_table_in_eventlog;
    resume_run_id_finishes_the_run => tracking_pg_resume_run_id_finishes_the_run, tracking_mssql_resume_run_id_finishes_the_run;
    resume_alone_continues_the_latest_unfinished_run => tracking_pg_resume_alone_continues_the_latest_unfinished_run, tracking_mssql_resume_alone_continues_the_latest_unfinished_run;
    killed_run_resumes_with_true_counts => tracking_pg_killed_run_resumes_with_true_counts, tracking_mssql_killed_run_resumes_with_true_counts;
    failed_constraint_is_recorded => tracking_pg_failed_constraint_is_recorded, tracking_mssql_failed_constraint_is_recorded;
    modes => tracking_pg_modes, tracking_mssql_modes;
    upgrades_older_schema => tracking_pg_upgrades_older_schema, tracking_mssql_upgrades_older_schema;
    clean_run_has_no_difference => tracking_pg_clean_run_has_no_difference, tracking_mssql_clean_run_has_no_difference;
    checksum_result_is_recorded => tracking_pg_checksum_result_is_recorded, tracking_mssql_checksum_result_is_recorded;
    standalone_validate_is_recorded => tracking_pg_standalone_validate_is_recorded, tracking_mssql_standalone_validate_is_recorded;
    concurrent_runs_keep_separate_records => tracking_pg_concurrent_runs_keep_separate_records, tracking_mssql_concurrent_runs_keep_separate_records;
    missing_rights_name_the_grant => tracking_pg_missing_rights_name_the_grant, tracking_mssql_missing_rights_name_the_grant;
}

#[test]
fn tracking_resume_run_id_without_tracking_checks_the_checkpoint() {
    let target = PgDb::new();
    let fx = fixture(true);
    let cfg = fx.config(&target, "app", "workers = 1");
    let cfg = cfg.to_str().expect("utf-8 path");
    assert_exit(&barge(&["migrate", cfg]), 4);
    let checkpoint: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("barge_checkpoint.json")).expect("checkpoint"),
    )
    .expect("checkpoint JSON");
    let run = checkpoint["run_id"].as_str().expect("run id").to_string();
    let wrong = barge(&["migrate", cfg, "--resume", "20000101-000000-beef"]);
    let wrong_text = assert_exit(&wrong, 5);
    assert!(
        wrong_text.contains(&run),
        "the refusal names the real run: {wrong_text}"
    );
    rusqlite::Connection::open(&fx.sqlite)
        .and_then(|c| c.execute("UPDATE orders SET qty = 7 WHERE id = 3", []))
        .expect("fix the source row");
    let out = barge(&["migrate", cfg, "--resume", &run]);
    let text = assert_ok(&out);
    assert!(text.contains(&run), "{text}");
    assert_eq!(
        target.scalar("SELECT count(*) FROM app.orders").as_deref(),
        Some("4")
    );
}

/// SQL Server helpers for the live suite (tiberius, no TLS).
mod mssql {
    use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel};
    use tokio::net::TcpStream;
    use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

    pub struct MssqlDb {
        pub host: String,
        pub port: u16,
        pub user: String,
        pub password: String,
        pub name: String,
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    }

    impl MssqlDb {
        /// `mssql://USER:PASSWORD@HOST:PORT`; creates database `barge_it_<pid>_<n>`.
        pub fn new(url: &str) -> MssqlDb {
            let rest = url
                .trim()
                .strip_prefix("mssql://")
                .or_else(|| url.trim().strip_prefix("sqlserver://"))
                .expect("BARGE_TEST_MSSQL_URL must look like mssql://USER:PASSWORD@HOST:PORT");
            let (login, addr) = rest.rsplit_once('@').expect("USER:PASSWORD@HOST:PORT");
            let (user, password) = login.split_once(':').expect("USER:PASSWORD");
            let addr = addr.trim_end_matches('/');
            let (host, port) = addr.split_once(':').unwrap_or((addr, "1433"));
            let db = MssqlDb {
                host: host.to_string(),
                port: port.parse().expect("port"),
                user: user.to_string(),
                password: password.to_string(),
                name: format!(
                    "barge_it_{}_{}",
                    std::process::id(),
                    super::COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                ),
            };
            db.on(
                "master",
                &format!(
                    "IF DB_ID(N'{0}') IS NOT NULL DROP DATABASE [{0}]; CREATE DATABASE [{0}]",
                    db.name
                ),
            );
            db
        }

        async fn client(&self, database: &str) -> Client<Compat<TcpStream>> {
            let mut config = Config::new();
            config.host(&self.host);
            config.port(self.port);
            config.database(database);
            config.authentication(AuthMethod::sql_server(&self.user, &self.password));
            config.encryption(EncryptionLevel::NotSupported);
            let tcp = TcpStream::connect(config.get_addr())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "SQL Server is required for this test and is not reachable at {}:{}: {e}",
                        self.host, self.port
                    )
                });
            Client::connect(config, tcp.compat_write())
                .await
                .unwrap_or_else(|e| panic!("SQL Server login failed: {e}"))
        }

        fn on(&self, database: &str, sql: &str) {
            runtime().block_on(async {
                let mut c = self.client(database).await;
                let stream = c
                    .simple_query(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                stream
                    .into_results()
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            });
        }

        pub fn execute(&self, sql: &str) {
            runtime().block_on(async {
                let mut c = self.client(&self.name).await;
                let stream = c
                    .simple_query(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                stream
                    .into_results()
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            });
        }

        pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
            runtime().block_on(async {
                let mut c = self.client(&self.name).await;
                let stream = c
                    .simple_query(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let rows = stream
                    .into_first_result()
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter()
                    .map(|r| r.cells().map(|(_, v)| text(v)).collect())
                    .collect()
            })
        }

        pub fn create_login_without_rights(&self, login: &str, password: &str) {
            self.on("master", &format!(
                "IF SUSER_ID(N'{login}') IS NOT NULL DROP LOGIN [{login}]; CREATE LOGIN [{login}] WITH PASSWORD = N'{password}', CHECK_POLICY = OFF"
            ));
            self.execute(&format!("CREATE USER [{login}] FOR LOGIN [{login}]"));
        }

        pub fn drop_login(&self, login: &str) {
            self.execute(&format!("DROP USER IF EXISTS [{login}]"));
            self.on("master", &format!("DROP LOGIN [{login}]"));
        }
    }

    fn text(v: &ColumnData<'static>) -> Option<String> {
        match v {
            ColumnData::U8(n) => n.map(|n| n.to_string()),
            ColumnData::I16(n) => n.map(|n| n.to_string()),
            ColumnData::I32(n) => n.map(|n| n.to_string()),
            ColumnData::I64(n) => n.map(|n| n.to_string()),
            ColumnData::F32(n) => n.map(|n| n.to_string()),
            ColumnData::F64(n) => n.map(|n| n.to_string()),
            ColumnData::Bit(b) => b.map(|b| b.to_string()),
            ColumnData::String(s) => s.as_ref().map(|s| s.to_string()),
            ColumnData::Numeric(n) => n.map(|n| n.to_string()),
            other => Some(format!("{other:?}")),
        }
    }

    impl Drop for MssqlDb {
        fn drop(&mut self) {
            let name = self.name.clone();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.on("master", &format!(
                    "IF DB_ID(N'{name}') IS NOT NULL BEGIN ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{name}] END"
                ))
            }));
        }
    }
}

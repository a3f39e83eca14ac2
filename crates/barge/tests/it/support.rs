//! Test harness: a fresh PostgreSQL database per test, SQLite fixtures built from SQL, and the
#![allow(dead_code)] // helpers are shared by test modules that each use a subset
//! barge binary run as a user would run it.
//!
//! Every test gets its own database (`barge_it_<pid>_<n>`), dropped when the guard goes out
//! of scope, so tests run in parallel without seeing each other. A missing server fails the
//! test loudly: nothing here skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::types::ValueRef;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn admin_url() -> String {
    std::env::var("BARGE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required for this test and is not reachable at {url}: {e}")
        });
    tokio::spawn(conn);
    client
}

/// A throwaway PostgreSQL database.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn new() -> PgDb {
        let name = format!(
            "barge_it_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin = admin_url();
        runtime().block_on(async {
            let c = client(&admin).await;
            c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .expect("drop old test database");
            c.batch_execute(&format!(
                "CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"
            ))
            .await
            .expect("create test database");
        });
        let url = match admin.rfind('/') {
            Some(i) => format!("{}/{}", &admin[..i], name),
            None => panic!("BARGE_TEST_PG_URL must be a URL ending in /database"),
        };
        PgDb { name, url }
    }

    /// Run a query and return every value as text (NULL as None), rows in result order.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        runtime().block_on(async {
            let c = client(&self.url).await;
            let msgs = c
                .simple_query(sql)
                .await
                .unwrap_or_else(|e| panic!("query failed: {sql}: {}", pg_error(&e)));
            msgs.into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    /// First column of the first row.
    pub fn scalar(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    pub fn execute(&self, sql: &str) {
        if let Err(e) = self.try_execute(sql) {
            panic!("{sql}: {e}");
        }
    }

    /// Run statements, returning PostgreSQL's error message (with its detail) on failure.
    pub fn try_execute(&self, sql: &str) -> Result<(), String> {
        runtime().block_on(async {
            let c = client(&self.url).await;
            c.batch_execute(sql)
                .await
                .map_err(|e| match e.as_db_error() {
                    Some(db) => format!("{}: {}", db.code().code(), db.message()),
                    None => e.to_string(),
                })
        })
    }

    /// `(name, format_type)` of every column of `schema.table`, in column order.
    pub fn columns(&self, schema: &str, table: &str) -> Vec<(String, String)> {
        self.query(&format!(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = {} AND c.relname = {} AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            literal(schema),
            literal(table)
        ))
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
    }

    /// Names of the tables in `schema`, sorted.
    pub fn tables(&self, schema: &str) -> Vec<String> {
        self.query(&format!(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = {} AND c.relkind IN ('r', 'p') ORDER BY c.relname COLLATE \"C\"",
            literal(schema)
        ))
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
    }

    /// Host, port and user of this database's URL, for credentials-file entries.
    pub fn server(&self) -> (String, u16, String) {
        let config: tokio_postgres::Config = self.url.parse().expect("test database URL");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            _ => panic!("BARGE_TEST_PG_URL must name a TCP host"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres").to_string();
        (host, port, user)
    }

    pub fn schema_exists(&self, schema: &str) -> bool {
        self.scalar(&format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = {}",
            literal(schema)
        ))
        .as_deref()
            == Some("1")
    }
}

/// `SQLSTATE: message` for a server error, the driver's text otherwise.
fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// A PostgreSQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A PostgreSQL quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = admin_url();
        runtime().block_on(async move {
            let c = client(&admin).await;
            let _ = c
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        });
    }
}

/// A folder with an SQLite database built from `sql`, and room for a config file.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub sqlite: PathBuf,
}

impl Fixture {
    pub fn sqlite(sql: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = dir.path().join("source.sqlite");
        let conn = rusqlite::Connection::open(&sqlite).expect("create sqlite file");
        conn.execute_batch(sql).expect("fixture SQL");
        Fixture { dir, sqlite }
    }

    /// Write `migration.toml` with the given extra top-level lines, pointing at `db`.
    pub fn config(&self, db: &PgDb, schema: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join("migration.toml");
        let text = format!(
            "schema = \"{schema}\"\non_schema_exists = \"recreate\"\n{extra}\n\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n\n[target]\ndsn = \"{}\"\n",
            db.url
        );
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// Write `migration.toml` exactly as `top` (top-level keys and any tables) followed by
    /// `[source]` and `[target]` sections pointing at `db`; for configs `config` cannot express.
    pub fn config_toml(&self, db: &PgDb, top: &str) -> PathBuf {
        self.write(
            "migration.toml",
            &format!(
                "{top}\n\n[source]\ntype = \"sqlite\"\ndsn = \"source.sqlite\"\n\n[target]\ndsn = \"{}\"\n",
                db.url
            ),
        )
    }

    /// Write a file into the fixture folder and return its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write fixture file");
        path
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Rows of an SQLite query on the fixture, each value as PostgreSQL's text output would
    /// show it for the matching column: integers and text as is, blobs as `\x` hex, reals in
    /// Rust's shortest form (use reals whose forms agree, like 1.5), NULL as None.
    pub fn sqlite_query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let conn = rusqlite::Connection::open(&self.sqlite).expect("open sqlite fixture");
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get_ref(i).map(|v| match v {
                            ValueRef::Null => None,
                            ValueRef::Integer(i) => Some(i.to_string()),
                            ValueRef::Real(f) => Some(f.to_string()),
                            ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                            ValueRef::Blob(b) => Some(format!("\\x{}", hex(b))),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Run barge with arguments; stdout and stderr captured.
pub fn barge(args: &[&str]) -> Output {
    barge_env(args, &[])
}

pub fn barge_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    barge_in(None, args, env)
}

/// Run barge in working directory `cwd` (the test's own when None).
pub fn barge_in(cwd: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_barge"));
    cmd.args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.env_remove("BARGE_SOURCE_DSN")
        .env_remove("BARGE_TARGET_DSN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run barge")
}

pub fn text(o: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Assert a successful run and return its combined output.
#[track_caller]
pub fn assert_ok(o: &Output) -> String {
    assert_exit(o, 0)
}

/// Assert the exit code and return the combined output.
#[track_caller]
pub fn assert_exit(o: &Output, code: i32) -> String {
    let t = text(o);
    assert_eq!(o.status.code(), Some(code), "{t}");
    t
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `barge plan CONFIG --format json`, parsed.
#[track_caller]
pub fn plan_json(config: &Path) -> serde_json::Value {
    let o = barge(&[
        "plan",
        config.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    let t = assert_ok(&o);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("plan JSON does not parse: {e}\n{t}"))
}

/// Whether the target's ledger records a run of `schema` that `--resume` can continue (a run
/// killed before it recorded itself has none: then a plain run starts it).
pub fn has_run_to_resume(db: &PgDb, schema: &str) -> bool {
    db.scalar("SELECT to_regclass('_barge.progress') IS NOT NULL")
        .as_deref()
        == Some("t")
        && db
            .scalar(&format!(
                "SELECT count(*) FROM _barge.progress WHERE run_schema = {}",
                literal(schema)
            ))
            .is_some_and(|n| n != "0")
}

/// After a successful run the ledger holds nothing of `schema` but the record that its run
/// completed.
#[track_caller]
pub fn assert_ledger_clean(db: &PgDb, schema: &str) {
    assert!(
        !has_run_to_resume(db, schema),
        "progress rows of `{schema}` left in the ledger"
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT count(*) > 0 FROM _barge.completed_runs WHERE run_schema = {}",
            literal(schema)
        ))
        .as_deref(),
        Some("t"),
        "no completed run of `{schema}` recorded"
    );
}

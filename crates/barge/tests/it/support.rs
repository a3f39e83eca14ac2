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
                .unwrap_or_else(|e| panic!("query failed: {sql}: {e}"));
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
        runtime().block_on(async {
            let c = client(&self.url).await;
            c.batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    }
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

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Run barge with arguments; stdout and stderr captured.
pub fn barge(args: &[&str]) -> Output {
    barge_env(args, &[])
}

pub fn barge_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_barge"));
    cmd.args(args);
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
    let t = text(o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    t
}

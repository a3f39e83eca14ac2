//! Integration tests against the MariaDB (or MySQL) server at `BARGE_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/mysql`) and the PostgreSQL at `BARGE_TEST_PG` (default
//! `host=127.0.0.1 user=postgres dbname=postgres`). A missing server fails the tests.
//!
//! Each test creates its own MySQL database and PostgreSQL schema with unique names and drops
//! them when it ends, also on panic.

mod chunks;
mod defaults;
mod introspect;
mod types;
mod values;

use barge_config::{SourceKind, TypeMapping};
use barge_model::{InvalidValuePolicy, KeyRange, Reject, Schema, Table};
pub use barge_source_mysql::IntrospectOptions;
use barge_source_mysql::{MysqlError, MysqlSource};
use bytes::Bytes;
use futures_util::SinkExt;
use mysql_async::prelude::Queryable;
use std::sync::atomic::{AtomicU64, Ordering};

fn mysql_url() -> String {
    std::env::var("BARGE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_string())
}

fn pg_conninfo() -> String {
    std::env::var("BARGE_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=postgres".to_string())
}

fn unique_name(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "barge_it_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A MySQL database made for one test, dropped when the value is.
pub struct TestDb {
    pub name: String,
    pub url: String,
    conn: mysql_async::Conn,
}

impl TestDb {
    pub async fn new(tag: &str) -> TestDb {
        let base = mysql_url();
        let name = unique_name(tag);
        let opts = mysql_async::Opts::from_url(&base).expect("BARGE_TEST_MYSQL_URL is a URL");
        let mut admin = mysql_async::Conn::new(opts.clone())
            .await
            .expect("MySQL/MariaDB test server must be running (BARGE_TEST_MYSQL_URL)");
        admin
            .query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .await
            .unwrap();
        let conn = mysql_async::Conn::new(
            mysql_async::OptsBuilder::from_opts(opts).db_name(Some(name.clone())),
        )
        .await
        .unwrap();
        let url = match base.rfind('/') {
            Some(i) if i > "mysql://".len() => format!("{}/{name}", &base[..i]),
            _ => format!("{base}/{name}"),
        };
        TestDb { name, url, conn }
    }

    /// Run statements separated by `;` lines (no `;` inside a statement at a line end).
    pub async fn exec(&mut self, sql: &str) {
        for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            self.conn
                .query_drop(stmt)
                .await
                .unwrap_or_else(|e| panic!("{stmt}: {e}"));
        }
    }

    pub async fn source(&self) -> MysqlSource {
        MysqlSource::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let url = mysql_url();
        // A fresh runtime on its own thread: Drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let opts = mysql_async::Opts::from_url(&url).ok()?;
                let mut c = mysql_async::Conn::new(opts).await.ok()?;
                c.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A PostgreSQL schema made for one test, dropped when the value is.
pub struct PgSchema {
    pub name: String,
    pub client: tokio_postgres::Client,
}

impl PgSchema {
    pub async fn new(tag: &str) -> PgSchema {
        let (client, connection) = tokio_postgres::connect(&pg_conninfo(), tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL test server must be running (BARGE_TEST_PG)");
        tokio::spawn(connection);
        let name = unique_name(tag);
        client
            .batch_execute(&format!("CREATE SCHEMA \"{name}\"; SET TIME ZONE 'UTC'"))
            .await
            .unwrap();
        PgSchema { name, client }
    }

    /// Create the table from the model (barge-pg's DDL) and load one COPY stream into it.
    pub async fn create(&self, table: &Table) {
        let ddl = barge_pg::ddl::create_table(&self.name, table, false);
        self.client
            .batch_execute(&ddl)
            .await
            .unwrap_or_else(|e| panic!("{ddl}: {e:?}"));
    }

    pub async fn load(&self, table: &Table, stream: Vec<Bytes>) {
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.target_name))
            .collect();
        let sql = format!(
            "COPY \"{}\".\"{}\" ({}) FROM STDIN (FORMAT binary)",
            self.name,
            table.target_name,
            cols.join(", ")
        );
        let sink = self.client.copy_in::<_, Bytes>(&sql).await.unwrap();
        futures_util::pin_mut!(sink);
        for b in stream {
            sink.send(b).await.unwrap();
        }
        sink.finish()
            .await
            .unwrap_or_else(|e| panic!("COPY failed: {e:?}"));
    }

    /// Every row as the text of each column (`NULL` for null), ordered by `order_by`.
    pub async fn rows(&self, table: &str, columns: &[&str], order_by: &str) -> Vec<Vec<String>> {
        let select: Vec<String> = columns.iter().map(|c| format!("\"{c}\"::text")).collect();
        let sql = format!(
            "SELECT {} FROM \"{}\".\"{}\" ORDER BY {order_by}",
            select.join(", "),
            self.name,
            table
        );
        let rows = self
            .client
            .query(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        rows.iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| {
                        r.get::<_, Option<String>>(i)
                            .unwrap_or_else(|| "NULL".to_string())
                    })
                    .collect()
            })
            .collect()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&pg_conninfo(), tokio_postgres::NoTls)
                        .await
                        .ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

pub fn mapping() -> TypeMapping {
    TypeMapping::defaults_for(SourceKind::Mariadb)
}

pub struct Copied {
    pub stream: Vec<Bytes>,
    pub rows: u64,
    pub reported_rows: u64,
    pub rejects: Vec<Reject>,
}

/// Copy one chunk, collecting the buffers it sends.
pub async fn copy(
    source: &MysqlSource,
    table: &Table,
    range: &KeyRange,
    policy: InvalidValuePolicy,
) -> Result<Copied, MysqlError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(b) = rx.recv().await {
            all.push(b);
        }
        all
    });
    let reported = std::sync::Arc::new(AtomicU64::new(0));
    let counter = reported.clone();
    let on_rows = move |n: u64| {
        counter.fetch_add(n, Ordering::Relaxed);
    };
    let mut rejects = Vec::new();
    // Small buffers so multi-buffer streams are exercised.
    let result = source
        .copy_chunk(table, range, policy, 1024, &tx, &on_rows, &mut rejects)
        .await;
    drop(tx);
    let stream = collector.await.unwrap();
    let rows = result?;
    Ok(Copied {
        stream,
        rows,
        reported_rows: reported.load(Ordering::Relaxed),
        rejects,
    })
}

pub fn table<'a>(schema: &'a Schema, name: &str) -> &'a Table {
    schema
        .table(name)
        .unwrap_or_else(|| panic!("table `{name}` not in the schema"))
}

/// Introspect with `options`, copy `name` whole into a new PostgreSQL table, and return the
/// PostgreSQL text of `columns`, ordered by `order_by`.
/// The source's schema under these type mapping options.
pub async fn introspected(source: &MysqlSource, options: TypeMapping) -> Schema {
    source
        .introspect(&IntrospectOptions::new(options))
        .await
        .unwrap_or_else(|e| panic!("introspection: {e}"))
}

pub async fn round_trip(
    db: &TestDb,
    options: &TypeMapping,
    name: &str,
    columns: &[&str],
    order_by: &str,
) -> Vec<Vec<String>> {
    let source = db.source().await;
    let schema = introspected(&source, options.clone()).await;
    let t = table(&schema, name);
    let copied = copy(&source, t, &KeyRange::WHOLE, InvalidValuePolicy::Error)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(copied.rows, copied.reported_rows);
    let pg = PgSchema::new("rt").await;
    pg.create(t).await;
    pg.load(t, copied.stream).await;
    pg.rows(name, columns, order_by).await
}

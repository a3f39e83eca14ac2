//! A MariaDB database per test, for the MySQL-family suites: made with the statements a test
//! gives, dropped with the guard (also when the test panics). A missing server fails the test.

use mysql_async::prelude::Queryable;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Write `dir/migration.toml` from the MariaDB at `source_url` into schema `app` of the
/// PostgreSQL at `target_url` (recreated each run): `top` goes before the first section,
/// `tail` after the others (more sections, such as `[type_mapping]`).
pub fn write_config(
    dir: &Path,
    source_url: &str,
    target_url: &str,
    top: &str,
    tail: &str,
) -> PathBuf {
    let path = dir.join("migration.toml");
    let text = format!(
        "schema = \"app\"\non_schema_exists = \"recreate\"\n{top}\n\n[source]\ntype = \"mariadb\"\ndsn = \"{source_url}\"\n\n[target]\ndsn = \"{target_url}\"\n\n{tail}\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn mysql_admin_url() -> String {
    std::env::var("BARGE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_string())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Every value of a text-protocol row as text, NULL as None.
pub fn row_text(row: mysql_async::Row) -> Vec<Option<String>> {
    row.unwrap()
        .into_iter()
        .map(|v| match v {
            mysql_async::Value::NULL => None,
            mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            mysql_async::Value::Int(i) => Some(i.to_string()),
            mysql_async::Value::UInt(u) => Some(u.to_string()),
            other => Some(format!("{other:?}")),
        })
        .collect()
}

/// A MariaDB database made for one test (`barge_it_my_<pid>_<n>`), dropped when the guard
/// is, also when the test panics. A missing server fails the test.
pub struct MariaDb {
    pub name: String,
    pub url: String,
    pub rt: tokio::runtime::Runtime,
    pub conn: Option<mysql_async::Conn>,
}

impl MariaDb {
    pub fn new(statements: &[&str]) -> MariaDb {
        let admin = mysql_admin_url();
        let name = format!(
            "barge_it_my_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let opts = mysql_async::Opts::from_url(&admin)
            .unwrap_or_else(|e| panic!("BARGE_TEST_MYSQL_URL `{admin}` is not a MySQL URL: {e}"));
        let rt = runtime();
        let conn = rt
            .block_on(mysql_async::Conn::new(opts))
            .unwrap_or_else(|e| {
                panic!("MariaDB is required for this test and is not reachable at {admin}: {e}")
            });
        let url = match admin.rfind('/') {
            Some(i) if i > "mysql://".len() => format!("{}/{name}", &admin[..i]),
            _ => format!("{admin}/{name}"),
        };
        // The guard exists before the database does, so a failure below still drops it.
        let mut db = MariaDb {
            name,
            url,
            rt,
            conn: Some(conn),
        };
        let name = db.name.clone();
        db.execute(&format!("DROP DATABASE IF EXISTS `{name}`"));
        db.execute(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ));
        db.execute(&format!("USE `{name}`"));
        db.execute("SET NAMES utf8mb4");
        db.execute("SET SESSION group_concat_max_len = 1 << 30");
        for s in statements {
            db.execute(s);
        }
        db
    }

    pub fn execute(&mut self, sql: &str) {
        let conn = self.conn.as_mut().expect("MariaDB session");
        self.rt
            .block_on(conn.query_drop(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn query(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        let conn = self.conn.as_mut().expect("MariaDB session");
        let rows: Vec<mysql_async::Row> = self
            .rt
            .block_on(conn.query(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(row_text).collect()
    }

    /// The other sessions on this database: id, and the statement each is running (`None`
    /// when idle or being killed: such a session may still show its last statement).
    pub fn other_sessions(&mut self) -> Vec<(String, Option<String>)> {
        self.query(&format!(
            "SELECT ID, IF(COMMAND IN ('Sleep', 'Killed'), NULL, INFO) FROM information_schema.PROCESSLIST \
             WHERE DB = '{}' AND ID <> CONNECTION_ID()",
            self.name
        ))
        .into_iter()
        .filter_map(|r| {
            let mut r = r.into_iter();
            Some((r.next()??, r.next()?))
        })
        .collect()
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        let done = match self.conn.take() {
            Some(mut c) => self.rt.block_on(async {
                let ok = c.query_drop(&drop).await.is_ok();
                let _ = c.disconnect().await;
                ok
            }),
            None => false,
        };
        if !done {
            // The session may have been lost; try once more on a new one.
            let admin = mysql_admin_url();
            self.rt.block_on(async {
                let Ok(opts) = mysql_async::Opts::from_url(&admin) else {
                    return;
                };
                if let Ok(mut c) = mysql_async::Conn::new(opts).await {
                    let _ = c.query_drop(&drop).await;
                    let _ = c.disconnect().await;
                }
            });
        }
    }
}

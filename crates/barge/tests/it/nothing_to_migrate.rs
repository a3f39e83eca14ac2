//! "Nothing to migrate" is not success: an empty source, a zero-byte SQLite file, a filter
//! entry that matches nothing and a selection that leaves no table stop `plan`, `migrate`
//! and `validate` with exit 2, before the target is touched (a schema that exists under
//! `on_schema_exists = "recreate"` is left as it was). Exact filters compare names as the
//! source does: case-sensitively for MariaDB table names (`lower_case_table_names = 0`),
//! case-insensitively for SQLite names and MySQL column names.

use crate::mariadb::{write_config, MariaDb};
use crate::support::{assert_exit, assert_ok, barge, stderr, Fixture, PgDb};
use std::path::Path;

const SHOP: &str = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, note TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, note TEXT);
    CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 10;
    INSERT INTO customers VALUES (1, 'ann', 'x');
    INSERT INTO orders VALUES (1, 1, 'first');";

/// A target schema `app` holding a table with one row: what `recreate` would drop.
fn existing_target(db: &PgDb) {
    db.execute(
        "CREATE SCHEMA app; CREATE TABLE app.keep (v int); INSERT INTO app.keep VALUES (42);",
    );
}

#[track_caller]
fn assert_target_untouched(db: &PgDb) {
    assert_eq!(
        db.scalar("SELECT string_agg(v::text, ',') FROM app.keep"),
        Some("42".into()),
        "the existing target schema must be left as it was"
    );
    assert_eq!(db.tables("app"), ["keep"]);
}

/// `plan`, `migrate` and `validate` of `config` each exit 2; returns their stderr, joined.
#[track_caller]
fn refused_by_every_command(config: &Path, db: &PgDb) -> String {
    let mut all = String::new();
    for command in ["plan", "migrate", "validate"] {
        let o = barge(&[command, config.to_str().unwrap()]);
        assert_exit(&o, 2);
        assert_target_untouched(db);
        all.push_str(&stderr(&o));
    }
    all
}

#[test]
fn include_tables_entry_that_matches_nothing_is_an_error_naming_it() {
    let fx = Fixture::sqlite(SHOP);
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(&db, "app", "include_tables = [\"custmers\", \"orders\"]");
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains("`include_tables` entry `custmers` matches no table of the source"),
        "{err}"
    );
    assert!(err.contains("did you mean `customers`?"), "{err}");
    assert!(!err.contains("entry `orders`"), "{err}");
}

#[test]
fn include_tables_entry_naming_a_view_says_views_are_not_migrated() {
    let fx = Fixture::sqlite(SHOP);
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(&db, "app", "include_tables = [\"big_orders\"]");
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains("`include_tables` entry `big_orders` matches no table of the source"),
        "{err}"
    );
    assert!(err.contains("view `big_orders`"), "{err}");
}

#[test]
fn exclude_columns_entry_that_matches_nothing_is_an_error_naming_it() {
    let fx = Fixture::sqlite(SHOP);
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(
        &db,
        "app",
        "exclude_columns = [\"orders.nte\", \"name\", \"ordrs.note\", \"secret\"]",
    );
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains("`exclude_columns` entry `orders.nte`: table `orders` has no such column"),
        "{err}"
    );
    assert!(err.contains("did you mean `note`?"), "{err}");
    assert!(
        err.contains("`exclude_columns` entry `ordrs.note` matches no table of the source"),
        "{err}"
    );
    assert!(err.contains("did you mean `orders`?"), "{err}");
    assert!(
        err.contains("`exclude_columns` entry `secret` matches no column of any table"),
        "{err}"
    );
    // `name` exists (in `customers`): not reported.
    assert!(!err.contains("entry `name`"), "{err}");
}

#[test]
fn glob_entries_that_match_nothing_are_errors() {
    let fx = Fixture::sqlite(SHOP);
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(
        &db,
        "app",
        "table_filter_mode = \"glob\"\nexclude_tables = [\"tmp_*\", \"order?\"]\ncolumn_filter_mode = \"glob\"\nexclude_columns = [\"*.pass*\"]",
    );
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains("`exclude_tables` entry `tmp_*` matches no table of the source"),
        "{err}"
    );
    assert!(
        err.contains("`exclude_columns` entry `*.pass*` matches no column of any table"),
        "{err}"
    );
    assert!(!err.contains("`order?`"), "{err}");
}

#[test]
fn filters_that_leave_no_table_are_an_error() {
    let fx = Fixture::sqlite(SHOP);
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(
        &db,
        "app",
        "include_tables = [\"orders\"]\nexclude_tables = [\"ORDERS\"]",
    );
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains("the table filters leave no table to migrate"),
        "{err}"
    );
}

#[test]
fn sqlite_names_match_case_insensitively() {
    let fx = Fixture::sqlite(SHOP);
    let db = PgDb::new();
    let cfg = fx.config(
        &db,
        "app",
        "include_tables = [\"ORDERS\"]\nexclude_columns = [\"Orders.NOTE\"]",
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(db.tables("app"), ["orders"]);
    assert_eq!(
        db.columns("app", "orders")
            .into_iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        ["id", "customer_id"]
    );
}

#[test]
fn an_sqlite_database_without_tables_is_an_error() {
    let fx = Fixture::sqlite("CREATE VIEW v AS SELECT 1 AS one;");
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(&db, "app", "");
    let err = refused_by_every_command(&cfg, &db);
    assert!(err.contains("has no tables to migrate"), "{err}");
    assert!(err.contains("view `v`"), "{err}");
}

#[test]
fn a_zero_byte_sqlite_file_is_an_error() {
    let fx = Fixture::sqlite("");
    std::fs::write(&fx.sqlite, b"").unwrap();
    let db = PgDb::new();
    existing_target(&db);
    let cfg = fx.config(&db, "app", "");
    let err = refused_by_every_command(&cfg, &db);
    assert!(err.contains("is empty (0 bytes)"), "{err}");
    assert_eq!(std::fs::metadata(&fx.sqlite).unwrap().len(), 0);
}

#[test]
fn an_empty_mariadb_database_is_an_error() {
    let my = MariaDb::new(&[]);
    let db = PgDb::new();
    existing_target(&db);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &my.url, &db.url, "", "");
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains(&format!(
            "source database `{}` has no tables to migrate",
            my.name
        )),
        "{err}"
    );
}

#[test]
fn mariadb_table_names_are_case_sensitive_in_exact_filters() {
    let mut my = MariaDb::new(&[
        "CREATE TABLE `Users` (id int PRIMARY KEY, v varchar(10))",
        "CREATE TABLE users (id int PRIMARY KEY, w varchar(10))",
        "INSERT INTO `Users` VALUES (1, 'upper')",
        "INSERT INTO users VALUES (1, 'lower'), (2, 'lower')",
    ]);
    assert_eq!(
        my.query("SELECT @@lower_case_table_names"),
        vec![vec![Some("0".to_string())]],
        "this test needs a server with case-sensitive table names"
    );
    let db = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &my.url,
        &db.url,
        "include_tables = [\"Users\"]",
        "",
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(db.tables("app"), ["users"]);
    assert_eq!(
        db.scalar("SELECT string_agg(v, ',') FROM app.users"),
        Some("upper".into())
    );

    // The other spelling selects the other table.
    let cfg = write_config(
        dir.path(),
        &my.url,
        &db.url,
        "exclude_tables = [\"Users\"]",
        "",
    );
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.scalar("SELECT string_agg(w, ',' ORDER BY id) FROM app.users"),
        Some("lower,lower".into())
    );

    // A spelling that names neither is an error that shows both.
    db.execute("DROP SCHEMA app CASCADE");
    existing_target(&db);
    let cfg = write_config(
        dir.path(),
        &my.url,
        &db.url,
        "include_tables = [\"USERS\"]",
        "",
    );
    let err = refused_by_every_command(&cfg, &db);
    assert!(
        err.contains("`include_tables` entry `USERS` matches no table of the source"),
        "{err}"
    );
    assert!(err.contains("`Users`") && err.contains("`users`"), "{err}");
    assert!(err.contains("case-sensitive"), "{err}");

    // Column names are case-insensitive on MySQL.
    let cfg = write_config(
        dir.path(),
        &my.url,
        &db.url,
        "include_tables = [\"Users\"]\nexclude_columns = [\"Users.V\"]",
        "",
    );
    db.execute("DROP SCHEMA app CASCADE");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(
        db.columns("app", "users")
            .into_iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        ["id"]
    );
}

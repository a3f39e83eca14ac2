//! Orphan cleanup before foreign keys: multi-level orphans, SET NULL keys, composite keys,
//! report mode, the fuse, and the quarantine holding every removed row.

use crate::support::{assert_ok, barge, text, Fixture, PgDb};

const SOURCE: &str = "
    PRAGMA foreign_keys = OFF;
    CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (id));
    CREATE TABLE line (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders (id), qty INT);
    CREATE TABLE note (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (id) ON DELETE SET NULL, body TEXT);
    CREATE TABLE region (country TEXT, code TEXT, PRIMARY KEY (country, code));
    CREATE TABLE shop (id INTEGER PRIMARY KEY, country TEXT, code TEXT,
        FOREIGN KEY (country, code) REFERENCES region (country, code));
    INSERT INTO customer VALUES (1, 'a'), (2, 'b');
    -- order 11 belongs to a missing customer; its lines become orphans once it is removed
    INSERT INTO orders VALUES (10, 1), (11, 99), (12, NULL);
    INSERT INTO line VALUES (100, 10, 1), (101, 11, 2), (102, 11, 3), (103, 55, 4);
    INSERT INTO note VALUES (1, 1, 'kept'), (2, 77, 'dangling'), (3, NULL, 'none');
    INSERT INTO region VALUES ('fr', '75'), ('de', 'BE');
    -- MATCH SIMPLE: a NULL in the key is no reference, so shop 3 stays
    INSERT INTO shop VALUES (1, 'fr', '75'), (2, 'fr', '13'), (3, 'de', NULL);
";

fn ids(db: &PgDb, sql: &str) -> Vec<String> {
    db.query(sql)
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_else(|| "NULL".into()))
        .collect()
}

#[test]
fn orphans_are_moved_level_by_level_or_nulled_and_keys_then_validate() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = assert_ok(&o);
    assert_eq!(
        ids(&db, "SELECT id FROM app.orders ORDER BY id"),
        ["10", "12"]
    );
    // 101 and 102 were orphaned only when order 11 left: the second pass took them.
    assert_eq!(ids(&db, "SELECT id FROM app.line ORDER BY id"), ["100"]);
    assert_eq!(
        ids(
            &db,
            "SELECT coalesce(customer_id::text, 'NULL') FROM app.note ORDER BY id"
        ),
        ["1", "NULL", "NULL"]
    );
    assert_eq!(ids(&db, "SELECT id FROM app.shop ORDER BY id"), ["1", "3"]);
    // Every removed row is in the quarantine, with the key that removed it.
    let q = db.query(
        "SELECT id::text, order_id::text, qty::text, _barge_foreign_key FROM app_orphans.line ORDER BY id",
    );
    let q: Vec<Vec<String>> = q
        .into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap()).collect())
        .collect();
    assert_eq!(
        q,
        [
            ["101", "11", "2", "line_order_id_fkey"],
            ["102", "11", "3", "line_order_id_fkey"],
            ["103", "55", "4", "line_order_id_fkey"]
        ]
    );
    assert_eq!(ids(&db, "SELECT id FROM app_orphans.orders"), ["11"]);
    assert_eq!(ids(&db, "SELECT id FROM app_orphans.shop"), ["2"]);
    // Every foreign key exists and is validated.
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'app'::regnamespace").as_deref(),
        Some("4")
    );
    assert!(out.contains("moved to `app_orphans`.`line`"), "{out}");
    assert!(out.contains("had their key set to NULL"), "{out}");
}

#[test]
fn report_mode_counts_and_stops_before_foreign_keys() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "clean_orphans_mode = \"report\"");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(
        out.contains(
            "foreign key `orders_customer_id_fkey` (`orders` -> `customer`): 1 orphan row(s)"
        ),
        "{out}"
    );
    assert!(
        out.contains("foreign key `line_order_id_fkey` (`line` -> `orders`): 1 orphan row(s)"),
        "{out}"
    );
    assert!(
        out.contains("clean_orphans_mode = \\\"apply\\\"")
            || out.contains("clean_orphans_mode = \"apply\""),
        "{out}"
    );
    assert!(out.contains("--resume"), "{out}");
    // Nothing changed and no foreign key was created.
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.line").as_deref(),
        Some("4")
    );
    assert_eq!(db.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'app'::regnamespace").as_deref(), Some("0"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'app_orphans'")
            .as_deref(),
        Some("0")
    );
    // Switching to apply and resuming finishes the run.
    let cfg = fx.config(&db, "app", "clean_orphans_mode = \"apply\"");
    assert_ok(&barge(&["migrate", cfg.to_str().unwrap(), "--resume"]));
    assert_eq!(ids(&db, "SELECT id FROM app.line ORDER BY id"), ["100"]);
}

#[test]
fn the_fuse_aborts_before_touching_any_row() {
    let fx = Fixture::sqlite(SOURCE);
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "clean_orphans_max_rows = 3");
    let o = barge(&["migrate", cfg.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(
        out.contains("more than `clean_orphans_max_rows = 3`; nothing was changed"),
        "{out}"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.line").as_deref(),
        Some("4")
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM app.note WHERE customer_id = 77")
            .as_deref(),
        Some("1")
    );
}

/// A self-referencing chain deeper than the number of foreign keys is cleaned to the end,
/// and row-count validation counts the quarantined rows as accounted for.
#[test]
fn deep_self_referencing_chains_are_cleaned_completely() {
    let fx = Fixture::sqlite(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE emp (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES emp (id));
         INSERT INTO emp VALUES (1, NULL), (2, 1);
         -- 10 -> 11 -> ... -> 19, and 10's boss 999 does not exist
         WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
           INSERT INTO emp SELECT i, CASE WHEN i = 10 THEN 999 ELSE i - 1 END FROM n;",
    );
    let db = PgDb::new();
    let cfg = fx.config(&db, "app", "validation = \"row_count\"");
    let out = assert_ok(&barge(&["migrate", cfg.to_str().unwrap()]));
    assert_eq!(ids(&db, "SELECT id FROM app.emp ORDER BY id"), ["1", "2"]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM app_orphans.emp").as_deref(),
        Some("10")
    );
    assert!(out.contains("validation: row counts match"), "{out}");
}
